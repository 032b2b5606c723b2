/**
 * Few-shot evaluation on real faces: embed every image of the evaluation set
 * once (inductive batch norm makes an embedding independent of the episode),
 * then classify many episodes by nearest prototype in one GPU dispatch.
 */
import type { Gpu } from "../kernels/device.ts";
import { submit } from "../kernels/kernel.ts";
import { bindProtoClassify } from "../kernels/proto_classify.ts";
import { Tensor } from "../kernels/tensor.ts";

/** Anything that maps a fixed-size image batch [B, 3, S, S] to embeddings [B, D] on the GPU. */
export interface Embedder {
  readonly batch: number;
  readonly dim: number;
  /** Writes the batch into the embedder's input, runs it, returns its output tensor. */
  embed(images: Tensor): Promise<Tensor> | Tensor;
  /** The embedder's input tensor [B, 3, S, S] (filled by the caller). */
  readonly input: Tensor;
}

/** One evaluation episode as indices into the embedded image list, class-major. */
export interface IndexEpisode {
  /** [N][K] support image indices. */
  support: number[][];
  /** [N][Q] query image indices. */
  query: number[][];
}

/** Mean accuracy with its 95% confidence interval over episodes. */
export interface AccuracySummary {
  episodes: number;
  mean: number;
  ci95: number;
  /** Accuracy of each episode, in episode order (for paired comparisons). */
  perEpisode: Float64Array;
}

/** Mean and 1.96·std/√E over per-episode accuracies. */
export function summarise(perEpisode: Float64Array): AccuracySummary {
  const e = perEpisode.length;
  const mean = perEpisode.reduce((a, b) => a + b, 0) / e;
  const variance = perEpisode.reduce((a, b) => a + (b - mean) ** 2, 0) / Math.max(1, e - 1);
  return { episodes: e, mean, ci95: 1.96 * Math.sqrt(variance / e), perEpisode };
}

/**
 * Embeds images [M] (each a [3, S, S] array) in chunks of the embedder's batch
 * and gathers the results into one GPU tensor [M, D].
 */
export async function embedAll(
  gpu: Gpu,
  embedder: Embedder,
  images: readonly Float32Array[],
  label = "embeddings",
): Promise<Tensor> {
  const { batch, dim, input } = embedder;
  const out = Tensor.zeros(gpu, [images.length, dim], label);
  const per = input.size / batch;
  const chunk = new Float32Array(input.size);
  for (let start = 0; start < images.length; start += batch) {
    const count = Math.min(batch, images.length - start);
    chunk.fill(0);
    for (let i = 0; i < count; i++) {
      if (images[start + i].length !== per) {
        throw new RangeError(
          `image ${start + i} has ${images[start + i].length} values, the embedder takes ${per}`,
        );
      }
      chunk.set(images[start + i], i * per);
    }
    input.write(chunk);
    const emb = await embedder.embed(input);
    const enc = gpu.device.createCommandEncoder({ label: "gather embeddings" });
    enc.copyBufferToBuffer(emb.buffer, 0, out.buffer, start * dim * 4, count * dim * 4);
    gpu.device.queue.submit([enc.finish()]);
  }
  return out;
}

/** Uploads raw images as "embeddings" [M, 3·S·S]: the pixel-prototype baseline. */
export function pixelEmbeddings(gpu: Gpu, images: readonly Float32Array[]): Tensor {
  const per = images[0].length;
  const flat = new Float32Array(images.length * per);
  images.forEach((im, i) => flat.set(im, i * per));
  return Tensor.from(gpu, flat, [images.length, per], "pixel embeddings");
}

/** Classifies every episode against embeddings [M, D]; returns accuracy statistics. */
export async function evaluateEpisodes(
  gpu: Gpu,
  embeddings: Tensor,
  episodes: readonly IndexEpisode[],
): Promise<AccuracySummary> {
  const e = episodes.length;
  const way = episodes[0].support.length;
  const shot = episodes[0].support[0].length;
  const perClass = episodes[0].query[0].length;
  const support = new Uint32Array(e * way * shot);
  const query = new Uint32Array(e * way * perClass);
  episodes.forEach((ep, i) => {
    support.set(ep.support.flat(), i * way * shot);
    query.set(ep.query.flat(), i * way * perClass);
  });
  // Chunks keep the prototype scratch [E, N, D] well inside binding limits.
  const dim = embeddings.shape[1];
  const chunk = Math.max(1, Math.min(e, Math.floor(2 ** 24 / (way * dim))));
  const correct = new Float32Array(e * way * perClass);
  for (let start = 0; start < e; start += chunk) {
    const n = Math.min(chunk, e - start);
    const ts = Tensor.from(
      gpu,
      support.subarray(start * way * shot, (start + n) * way * shot),
      [n, way, shot],
      "eval support indices",
    );
    const tq = Tensor.from(
      gpu,
      query.subarray(start * way * perClass, (start + n) * way * perClass),
      [n, way * perClass],
      "eval query indices",
    );
    const tp = Tensor.zeros(gpu, [n, way, dim], "eval prototypes");
    const td = Tensor.zeros(gpu, [n, way * perClass, way], "eval distances");
    const tc = Tensor.zeros(gpu, [n, way * perClass], "eval correct");
    submit(gpu, bindProtoClassify(gpu, embeddings, ts, tq, tp, td, tc), "evaluate episodes");
    correct.set(await tc.read(), start * way * perClass);
    for (const t of [ts, tq, tp, td, tc]) t.destroy();
  }
  const per = way * perClass;
  const acc = new Float64Array(e);
  for (let i = 0; i < e; i++) {
    let s = 0;
    for (let j = 0; j < per; j++) s += correct[i * per + j];
    acc[i] = s / per;
  }
  return summarise(acc);
}

/**
 * Paired comparison of two methods on the same episodes: mean difference and
 * its 95% interval; `significant` when the interval excludes zero.
 */
export function pairedDifference(
  a: Float64Array,
  b: Float64Array,
): { mean: number; ci95: number; significant: boolean } {
  const d = new Float64Array(a.length).map((_, i) => a[i] - b[i]);
  const s = summarise(d);
  return { mean: s.mean, ci95: s.ci95, significant: Math.abs(s.mean) > s.ci95 };
}
