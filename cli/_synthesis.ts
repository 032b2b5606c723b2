/**
 * Builds the synthetic side of a run: generator, calibrated task sampler and
 * the GPU pool of synthetic classes, and adapts the pool to the training
 * loop's EpisodeSource.
 */
import { Rng } from "../data/random.ts";
import { writeFileAtomic } from "../data/safetensors.ts";
import { writeGridPng } from "../data/png.ts";
import type { ColorMode } from "../data/preprocess.ts";
import { Generator } from "../gan/generator.ts";
import { loadGenerator } from "../gan/weights.ts";
import {
  calibrate,
  type Calibration,
  DEFAULT_SAMPLER,
  layersForResolutions,
  type SamplerConfig,
  TaskSampler,
} from "../gan/sampler.ts";
import { GeneratorMapper, TaskPool } from "../gan/task_pool.ts";
import type { Gpu } from "../kernels/device.ts";
import type { Tensor } from "../kernels/tensor.ts";
import type { EpisodeSource } from "../protonet/train_loop.ts";
import type { TrainConfig } from "./_train_config.ts";

/** Images per generator call. */
export const GENERATOR_BATCH = 30;

/** The run flags that shape task synthesis (a view of the training configuration). */
export type SynthesisRequest = Pick<
  TrainConfig,
  | "generator"
  | "sampler"
  | "idLayers"
  | "idRes"
  | "epsAnchor"
  | "epsNear"
  | "sigma"
  | "psi"
  | "noise"
  | "calibrationSamples"
  | "poolGroups"
  | "poolMembers"
  | "poolRefresh"
  | "way"
  | "shot"
  | "query"
  | "imageSize"
  | "seed"
>;

/** Identity inputs from the flags, or the default for this generator's depth. */
export function resolveIdLayers(req: SynthesisRequest, numWs: number): [number, number] {
  if (req.idLayers) {
    if (req.idLayers[1] > numWs) {
      throw new RangeError(
        `--id-layers ${req.idLayers[0]}-${req.idLayers[1] - 1} exceeds this generator's ` +
          `${numWs} style inputs (0-${numWs - 1})`,
      );
    }
    return req.idLayers;
  }
  if (req.idRes) return layersForResolutions(numWs, req.idRes[0], req.idRes[1] - 1);
  // The embedded 64 px generator (10 inputs) carries identity in inputs 3-6 (16-32 px layers);
  // for other depths take the same relative band: the middle of the synthesis network.
  if (numWs === 10) return [3, 7];
  return [Math.round(numWs * 0.3), Math.round(numWs * 0.7)];
}

/** The generator and sampler of a run, before the pool exists. */
export class Synthesis {
  sampler?: TaskSampler;
  calibration?: Calibration;

  private constructor(
    readonly generator: Generator,
    readonly mapper: GeneratorMapper,
    readonly samplerConfig: SamplerConfig,
    readonly req: SynthesisRequest,
  ) {}

  /** Loads the generator (shape- and NaN-checked) and resolves the sampler settings. */
  static async create(gpu: Gpu, req: SynthesisRequest): Promise<Synthesis> {
    const weights = await loadGenerator(req.generator);
    const generator = await Generator.create(gpu, weights, GENERATOR_BATCH);
    const mapper = new GeneratorMapper(gpu, generator);
    const samplerConfig: SamplerConfig = {
      ...DEFAULT_SAMPLER,
      kind: req.sampler,
      idLayers: resolveIdLayers(req, generator.config.numWs),
      epsAnchor: req.epsAnchor,
      epsNear: req.epsNear,
      sigma: req.sigma,
      psi: req.psi,
    };
    return new Synthesis(generator, mapper, samplerConfig, req);
  }

  /** One line describing the generator and the identity inputs. */
  describe(): string {
    const c = this.generator.config;
    const [a, b] = this.samplerConfig.idLayers;
    return `${c.resolution}px, z ${c.zDim}, w ${c.wDim}, ${c.numWs} style inputs; ` +
      `identity inputs ${a}-${b - 1}; sampler ${this.samplerConfig.kind}`;
  }

  /** Median identity distance, cached per generator file, layers, sample count and seed. */
  async calibrate(cacheDir: string, say: (line: string) => void): Promise<Calibration> {
    const bytes = await Deno.readFile(this.req.generator);
    const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
    const hash = [...digest.slice(0, 8)].map((b) => b.toString(16).padStart(2, "0")).join("");
    const [a, b] = this.samplerConfig.idLayers;
    const key = `${hash}-L${a}-${b}-n${this.req.calibrationSamples}-s${this.req.seed}`;
    const path = `${cacheDir}/calibration-${key}.json`;
    let cal: Calibration | undefined;
    try {
      cal = JSON.parse(await Deno.readTextFile(path));
      say(`calibration  cached (${path})`);
    } catch {
      const t0 = performance.now();
      cal = await calibrate(
        this.mapper,
        this.samplerConfig.idLayers,
        this.req.calibrationSamples,
        new Rng(this.req.seed + 101),
      );
      await Deno.mkdir(cacheDir, { recursive: true });
      await writeFileAtomic(path, JSON.stringify(cal, null, 2));
      say(
        `calibration  ${cal.samples} latents in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
      );
    }
    say(
      `calibration  median identity distance m = ${cal!.medianW.toFixed(4)} (w, inputs ` +
        `${a}-${b - 1}), ${cal!.medianZ.toFixed(3)} (z); anchors need d > ` +
        `${(this.samplerConfig.epsAnchor * cal!.medianW).toFixed(4)}, near samples d < ` +
        `${(this.samplerConfig.epsNear * cal!.medianW).toFixed(4)}`,
    );
    this.calibration = cal;
    this.sampler = new TaskSampler(this.mapper, this.samplerConfig, cal!);
    return cal!;
  }

  /** Fills the pool of synthetic classes (after `calibrate`). */
  async buildPool(
    gpu: Gpu,
    mode: ColorMode,
    say: (line: string) => void,
  ): Promise<SyntheticEpisodes> {
    if (!this.sampler) throw new Error("calibrate() must run before buildPool()");
    const r = this.req;
    const t0 = performance.now();
    const rng = new Rng(r.seed + 202);
    const pool = await TaskPool.create(gpu, this.generator, this.sampler, {
      groups: r.poolGroups,
      members: r.poolMembers,
      refreshEvery: r.poolRefresh,
    }, { nWay: r.way, imageSize: r.imageSize, gray: mode === "gray", noise: r.noise, rng });
    const seconds = (performance.now() - t0) / 1000;
    say(
      `task pool    ${r.poolGroups} groups × ${r.way} classes × ${r.poolMembers} images ` +
        `= ${pool.imagesGenerated} images in ${seconds.toFixed(1)} s ` +
        `(${(pool.imagesGenerated / seconds).toFixed(1)} images/s incl. sampling); ` +
        (r.poolRefresh > 0
          ? `one group replaced every ${r.poolRefresh} episodes`
          : "never refreshed") +
        (r.poolGroups === 1 && r.poolRefresh === 1 ? " (fresh tasks every episode)" : ""),
    );
    return new SyntheticEpisodes(pool, this.sampler, r.shot, r.query);
  }
}

/** Adapts a TaskPool to the training loop and reports its statistics. */
export class SyntheticEpisodes implements EpisodeSource {
  constructor(
    readonly pool: TaskPool,
    readonly sampler: TaskSampler,
    readonly shot: number,
    readonly query: number,
  ) {}

  async beforeEpisode(episode: number, rng: Rng): Promise<void> {
    await this.pool.maybeRefresh(episode, rng);
  }

  fill(batch: Tensor, rng: Rng): void {
    this.pool.assembleEpisode(batch, this.shot, this.query, rng);
  }

  /** Acceptance rates so far, as percentages, and the current σ. */
  acceptance(): { anchors: string; near: string; sigma: string } {
    const s = this.sampler.stats;
    const rate = (k: number, t: number) => t ? `${(100 * k / t).toFixed(1)}%` : "n/a";
    return {
      anchors: rate(s.anchorKept, s.anchorTried),
      near: rate(s.nearKept, s.nearTried),
      sigma: this.sampler.sigma.toFixed(3),
    };
  }

  /** σ adaptation notes since the last call. */
  notes(): string[] {
    return this.sampler.drainNotes();
  }

  /** One line on how many images were generated and how fast. */
  summary(): string {
    const p = this.pool;
    const rate = p.imagesGenerated / (p.generationMs / 1000);
    return `${p.imagesGenerated} images generated in ${(p.generationMs / 1000).toFixed(0)} s ` +
      `(${rate.toFixed(1)} images/s with sampling)`;
  }

  /** Writes group 0 as a picture: one row per class, members across. */
  async writeTaskPicture(path: string): Promise<void> {
    const images = await this.pool.readGroup(0);
    await writeGridPng(path, images, this.pool.nWay, this.pool.config.members, { scale: 2 });
  }
}
