/**
 * Few-shot evaluation of an embedder on a real face data set: the images of
 * every identity that can appear are loaded and embedded once, then many
 * seeded episodes are classified on the GPU. Two methods evaluated with the
 * same seed see the very same episodes (paired comparison).
 */
import type { FaceDataset } from "../data/dataset.ts";
import { sampleEpisodes } from "../data/episodes.ts";
import type { Gpu } from "../kernels/device.ts";
import type { Tensor } from "../kernels/tensor.ts";
import {
  type AccuracySummary,
  embedAll,
  type Embedder,
  evaluateEpisodes,
  type IndexEpisode,
  pixelEmbeddings,
} from "./evaluate.ts";

/** Episode geometry and count for one evaluation setting. */
export interface EvalSetting {
  way: number;
  shot: number;
  query: number;
  episodes: number;
  seed: number;
}

/** One row of results. */
export interface EvalResult extends EvalSetting {
  mean: number;
  ci95: number;
  perEpisode: Float64Array;
}

/** The images of a data set, flattened, with each identity's index range. */
export interface LoadedSet {
  images: Float32Array[];
  /** First index and count of each identity's images in `images`. */
  ranges: Map<string, { start: number; count: number }>;
}

/** Loads (decodes and preprocesses) every image of every identity of `dataset`. */
export async function loadSet(
  dataset: FaceDataset,
  onProgress?: (done: number, total: number) => void,
): Promise<LoadedSet> {
  const images: Float32Array[] = [];
  const ranges = new Map<string, { start: number; count: number }>();
  const ids = dataset.identities;
  for (let i = 0; i < ids.length; i++) {
    const loaded = await dataset.loadIdentity(ids[i]);
    ranges.set(ids[i], { start: images.length, count: loaded.length });
    for (const im of loaded) images.push(im.tensor);
    onProgress?.(i + 1, ids.length);
  }
  return { images, ranges };
}

/** Seeded episodes for a setting, as indices into a LoadedSet. */
export function indexEpisodes(set: LoadedSet, setting: EvalSetting): IndexEpisode[] {
  const counts = new Map([...set.ranges].map(([id, r]) => [id, r.count]));
  const spec = { ways: setting.way, shots: setting.shot, queries: setting.query };
  return sampleEpisodes(counts, spec, setting.episodes, setting.seed).map((ep) => ({
    support: ep.classes.map((c) => c.support.map((i) => set.ranges.get(c.identity)!.start + i)),
    query: ep.classes.map((c) => c.query.map((i) => set.ranges.get(c.identity)!.start + i)),
  }));
}

/** What to evaluate: a network (through an Embedder) or raw pixels. */
export type EvalModel = { kind: "embedder"; embedder: Embedder } | { kind: "pixels" };

/** Embeds the set once and evaluates every setting on it. */
export async function evaluateOnSet(
  gpu: Gpu,
  model: EvalModel,
  set: LoadedSet,
  settings: readonly EvalSetting[],
): Promise<EvalResult[]> {
  const emb: Tensor = model.kind === "pixels"
    ? pixelEmbeddings(gpu, set.images)
    : await embedAll(gpu, model.embedder, set.images);
  const results: EvalResult[] = [];
  for (const s of settings) {
    const summary: AccuracySummary = await evaluateEpisodes(gpu, emb, indexEpisodes(set, s));
    results.push({ ...s, mean: summary.mean, ci95: summary.ci95, perEpisode: summary.perEpisode });
  }
  emb.destroy();
  return results;
}
