/**
 * A pool of synthetic classes kept on the GPU as classifier-ready images.
 *
 * Image generation dominates the cost of meta-training, so classes are
 * generated in groups of N mutually distant anchors (one group = one valid
 * N-way task family), each class with M ≥ K + Q members, and reused: an
 * episode takes one random group and K + Q random members of each of its
 * classes, in a random class order. Every `refreshEvery` episodes the oldest
 * group is replaced by a freshly sampled one. groups = 1, members = K + Q and
 * refreshEvery = 1 gives a brand-new task every episode, as in the paper.
 *
 * Pool tensor layout: [G, N, M, 3, S, S].
 */
import type { Rng } from "../data/random.ts";
import type { Gpu } from "../kernels/device.ts";
import { type Dispatch, submit } from "../kernels/kernel.ts";
import { Tensor } from "../kernels/tensor.ts";
import { bindToInput } from "../kernels/to_input.ts";
import type { Generator, NoiseMode } from "./generator.ts";
import type { LatentMapper, TaskSampler } from "./sampler.ts";

/** Size and reuse policy of the pool. */
export interface PoolConfig {
  /** G: groups of N classes kept at once. */
  groups: number;
  /** M: generated members per class (≥ K + Q). */
  members: number;
  /** Replace the oldest group after this many episodes (0 = never). */
  refreshEvery: number;
}

/** Wraps a Generator's GPU mapping network as a batched CPU-facing LatentMapper. */
export class GeneratorMapper implements LatentMapper {
  readonly zDim: number;
  readonly wDim: number;
  readonly numWs: number;
  readonly wAvg: Float32Array;
  readonly #z: Tensor;

  constructor(readonly gpu: Gpu, readonly generator: Generator) {
    const c = generator.config;
    this.zDim = c.zDim;
    this.wDim = c.wDim;
    this.numWs = c.numWs;
    this.wAvg = generator.wAvg;
    this.#z = Tensor.zeros(gpu, [generator.batch, c.zDim], "mapper z");
  }

  /** z [n, zDim] → w [n, wDim], in chunks of the generator's batch. */
  async map(z: Float32Array, n: number): Promise<Float32Array> {
    const b = this.generator.batch;
    const out = new Float32Array(n * this.wDim);
    const chunk = new Float32Array(b * this.zDim);
    for (let start = 0; start < n; start += b) {
      const count = Math.min(b, n - start);
      chunk.fill(0);
      chunk.set(z.subarray(start * this.zDim, (start + count) * this.zDim));
      this.#z.write(chunk);
      const w = await this.generator.mapping(this.#z).read();
      out.set(w.subarray(0, count * this.wDim), start * this.wDim);
    }
    return out;
  }
}

/** Synthetic classes on the GPU, ready to be copied into training batches. */
export class TaskPool {
  readonly pool: Tensor;
  readonly imageElements: number;
  #ws: Tensor;
  #converted: Tensor;
  #convert: Dispatch;
  #nextToReplace = 0;
  /** Images generated so far (for the log). */
  imagesGenerated = 0;
  /** Milliseconds spent sampling latents and rendering. */
  generationMs = 0;

  private constructor(
    readonly gpu: Gpu,
    readonly generator: Generator,
    readonly sampler: TaskSampler,
    readonly config: PoolConfig,
    readonly nWay: number,
    readonly imageSize: number,
    readonly gray: boolean,
    readonly noise: NoiseMode,
  ) {
    const { groups, members } = config;
    const s = imageSize;
    const b = generator.batch;
    const c = generator.config;
    this.imageElements = 3 * s * s;
    this.pool = Tensor.zeros(gpu, [groups, nWay, members, 3, s, s], "task pool");
    this.#ws = Tensor.zeros(gpu, [b, c.numWs, c.wDim], "pool ws");
    this.#converted = Tensor.zeros(gpu, [b, 3, s, s], "pool converted");
    this.#convert = bindToInput(gpu, generator.output, this.#converted, gray);
  }

  /** Builds the pool and fills every group. */
  static async create(
    gpu: Gpu,
    generator: Generator,
    sampler: TaskSampler,
    config: PoolConfig,
    opts: { nWay: number; imageSize: number; gray: boolean; noise: NoiseMode; rng: Rng },
    onProgress?: (done: number, total: number) => void,
  ): Promise<TaskPool> {
    if (opts.imageSize > generator.config.resolution) {
      throw new RangeError(
        `--image-size ${opts.imageSize} exceeds the generator's resolution ` +
          `${generator.config.resolution}`,
      );
    }
    const pool = new TaskPool(
      gpu,
      generator,
      sampler,
      config,
      opts.nWay,
      opts.imageSize,
      opts.gray,
      opts.noise,
    );
    for (let g = 0; g < config.groups; g++) {
      await pool.fillGroup(g, opts.rng);
      onProgress?.(g + 1, config.groups);
    }
    return pool;
  }

  /** Samples N new classes and renders their members into group slot `g`. */
  async fillGroup(g: number, rng: Rng): Promise<void> {
    const t0 = performance.now();
    const { members } = this.config;
    const classes = await this.sampler.sampleClasses(this.nWay, members, rng);
    const c = this.generator.config;
    const perImage = c.numWs * c.wDim;
    const all = new Float32Array(this.nWay * members * perImage);
    classes.forEach((cls, i) => all.set(cls.ws, i * members * perImage));
    const b = this.generator.batch;
    const total = this.nWay * members;
    const bytes = this.imageElements * 4;
    for (let start = 0; start < total; start += b) {
      const count = Math.min(b, total - start);
      const chunk = new Float32Array(b * perImage);
      chunk.set(all.subarray(start * perImage, (start + count) * perImage));
      this.#ws.write(chunk);
      this.generator.synthesize(this.#ws, { noise: this.noise, rng });
      submit(this.gpu, [this.#convert], "convert generated");
      const enc = this.gpu.device.createCommandEncoder({ label: "store pool images" });
      const slot0 = g * total + start;
      enc.copyBufferToBuffer(
        this.#converted.buffer,
        0,
        this.pool.buffer,
        slot0 * bytes,
        count * bytes,
      );
      this.gpu.device.queue.submit([enc.finish()]);
    }
    await this.gpu.device.queue.onSubmittedWorkDone();
    this.imagesGenerated += total;
    this.generationMs += performance.now() - t0;
  }

  /** Replaces the oldest group when the refresh period has passed. */
  async maybeRefresh(episode: number, rng: Rng): Promise<boolean> {
    const every = this.config.refreshEvery;
    if (every <= 0 || episode === 0 || episode % every !== 0) return false;
    await this.fillGroup(this.#nextToReplace, rng);
    this.#nextToReplace = (this.#nextToReplace + 1) % this.config.groups;
    return true;
  }

  /**
   * Copies one episode into `batch` [N·(K+Q), 3, S, S]: support images
   * class-major first, then query images class-major (the ProtoNet's order).
   */
  assembleEpisode(batch: Tensor, kShot: number, nQuery: number, rng: Rng): void {
    const { members, groups } = this.config;
    const n = this.nWay;
    if (kShot + nQuery > members) {
      throw new RangeError(`K + Q = ${kShot + nQuery} exceeds the pool's ${members} members`);
    }
    batch.expectShape([n * (kShot + nQuery), 3, this.imageSize, this.imageSize], "episode batch");
    const g = rng.int(groups);
    const classOrder = rng.shuffle([...Array(n).keys()]);
    const bytes = this.imageElements * 4;
    const enc = this.gpu.device.createCommandEncoder({ label: "assemble episode" });
    classOrder.forEach((cls, label) => {
      const picks = rng.sample([...Array(members).keys()], kShot + nQuery);
      picks.forEach((m, j) => {
        const src = ((g * n + cls) * members + m) * bytes;
        const dst = j < kShot ? label * kShot + j : n * kShot + label * nQuery + (j - kShot);
        enc.copyBufferToBuffer(this.pool.buffer, src, batch.buffer, dst * bytes, bytes);
      });
    });
    this.gpu.device.queue.submit([enc.finish()]);
  }

  /** Reads group `g` back as images [N·M] of [3, S, S] (for task pictures). */
  async readGroup(g: number): Promise<Float32Array[]> {
    const all = await this.pool.read();
    const per = this.imageElements;
    const count = this.nWay * this.config.members;
    return Array.from(
      { length: count },
      (_, i) => all.slice((g * count + i) * per, (g * count + i + 1) * per),
    );
  }

  /** Frees the pool's GPU buffers. */
  destroy(): void {
    this.pool.destroy();
    this.#ws.destroy();
    this.#converted.destroy();
  }
}
