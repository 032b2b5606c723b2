/**
 * StyleGAN2 generator on WebGPU, built once for a fixed batch size: mapping (z → w), latent
 * helpers (broadcast, truncation, style mixing) and synthesis (ws → images). Every tensor and
 * bind group is created in `create`; calls only record dispatches and write inputs, so
 * repeated calls allocate nothing on the GPU. Returned tensors belong to the generator and are
 * overwritten by the next call of the same method.
 *
 * Shape legend: B batch, Z z_dim, D w_dim, L num_ws, C image channels, R resolution.
 */
import type { Rng } from "../data/random.ts";
import type { Gpu } from "../kernels/device.ts";
import { type Dispatch, encode } from "../kernels/kernel.ts";
import { Tensor } from "../kernels/tensor.ts";
import { linear } from "../kernels/linear.ts";
import { pixelNorm } from "../kernels/pixel_norm.ts";
import { setTruncation, wsTruncate } from "../kernels/ws_truncate.ts";
import { setMixRange, wsMix } from "../kernels/ws_mix.ts";
import { buildSynthesis, type SynthesisNet } from "./synthesis.ts";
import type { GeneratorConfig, GeneratorWeights } from "./weights.ts";

/** Noise inputs of the synthesis layers: the file's fixed images, fresh N(0, 1), or none. */
export type NoiseMode = "const" | "random" | "none";

/** Options of `Generator.synthesize`. */
export interface SynthesisOptions {
  /** Noise mode; `random` needs `rng`. */
  noise: NoiseMode;
  /** Source of random noise: per layer in order, one r x r image per sample. */
  rng?: Rng;
}

/** A StyleGAN2 generator bound to one GPU and one batch size. */
export class Generator {
  readonly config: GeneratorConfig;
  /** Truncation centre w_avg [D] (CPU copy). */
  readonly wAvg: Float32Array;
  #owned: Tensor[] = [];
  #z: Tensor; // [B, Z] mapping input
  #w: Tensor; // [B, D] mapping output
  #mapping: Dispatch[] = [];
  #wIn: Tensor; // [B, D] input of broadcast / truncation of w
  #wsIn: Tensor; // [B, L, D] input of truncation of ws
  #mixA: Tensor; // [B, L, D]
  #mixB: Tensor; // [B, L, D]
  #broadcast: { dispatch: Dispatch; out: Tensor };
  #truncW: { dispatch: Dispatch; out: Tensor };
  #truncWs: { dispatch: Dispatch; out: Tensor };
  #mix: { dispatch: Dispatch; out: Tensor };
  #net: SynthesisNet;
  #noiseMode: NoiseMode | undefined;

  private constructor(readonly gpu: Gpu, weights: GeneratorWeights, readonly batch: number) {
    const c = weights.config;
    this.config = c;
    const get = (name: string) => weights.tensors.get(name)!.data;
    this.wAvg = get("mapping.w_avg").slice();
    const own = (t: Tensor) => {
      this.#owned.push(t);
      return t;
    };
    const zeros = (shape: number[], label: string) => own(Tensor.zeros(gpu, shape, label));
    const upload = (name: string, shape: number[]) => own(Tensor.from(gpu, get(name), shape, name));

    this.#z = zeros([batch, c.zDim], "mapping.z");
    let x = zeros([batch, c.zDim], "mapping.z_norm");
    this.#mapping.push(pixelNorm(gpu, this.#z, x));
    for (let i = 0; i < c.nMapping; i++) {
      const fanIn = i === 0 ? c.zDim : c.wDim;
      const y = zeros([batch, c.wDim], `mapping.fc${i}.out`);
      this.#mapping.push(linear(
        gpu,
        x,
        upload(`mapping.fc${i}.weight`, [c.wDim, fanIn]),
        upload(`mapping.fc${i}.bias`, [c.wDim]),
        y,
        { wGain: c.lrMul / Math.sqrt(fanIn), bGain: c.lrMul, lrelu: true },
      ));
      x = y;
    }
    this.#w = x;

    const wsShape = [batch, c.numWs, c.wDim];
    const avg = upload("mapping.w_avg", [c.wDim]);
    this.#wIn = zeros([batch, c.wDim], "latents.w_in");
    this.#wsIn = zeros(wsShape, "latents.ws_in");
    this.#mixA = zeros(wsShape, "latents.mix_a");
    this.#mixB = zeros(wsShape, "latents.mix_b");
    const truncation = (input: Tensor, label: string) => {
      const out = zeros(wsShape, label);
      return { dispatch: wsTruncate(gpu, input, avg, out, 1, c.numWs), out };
    };
    this.#broadcast = truncation(this.#wIn, "latents.broadcast");
    this.#truncW = truncation(this.#wIn, "latents.truncated_w");
    this.#truncWs = truncation(this.#wsIn, "latents.truncated_ws");
    const mixed = zeros(wsShape, "latents.mixed");
    this.#mix = { dispatch: wsMix(gpu, this.#mixA, this.#mixB, mixed, 0, 0), out: mixed };

    this.#net = buildSynthesis(gpu, weights, batch);
    this.#owned.push(...this.#net.owned);
  }

  /**
   * Uploads the weights and builds every tensor and dispatch for batch size `batch`.
   * Only the small noise_const images of the weights are kept (for re-uploads).
   */
  static create(gpu: Gpu, weights: GeneratorWeights, batch: number): Promise<Generator> {
    if (!Number.isInteger(batch) || batch < 1) {
      throw new RangeError(`generator batch is ${batch}, expected a positive integer`);
    }
    return Promise.resolve(new Generator(gpu, weights, batch));
  }

  /**
   * Mapping network: pixel norm, then `nMapping` FC layers with lrelu.
   * @param z latents [B, Z]
   * @returns w [B, D] (generator-owned)
   */
  mapping(z: Tensor): Tensor {
    z.expectShape([this.batch, this.config.zDim], "Generator.mapping z");
    this.#run(this.#mapping, [[z, this.#z]], "mapping");
    return this.#w;
  }

  /**
   * Repeats w for every style input.
   * @param w [B, D]
   * @returns ws [B, L, D] (generator-owned)
   */
  broadcastWs(w: Tensor): Tensor {
    w.expectShape([this.batch, this.config.wDim], "Generator.broadcastWs w");
    this.#run([this.#broadcast.dispatch], [[w, this.#wIn]], "broadcast");
    return this.#broadcast.out;
  }

  /**
   * Truncation trick: `w_avg + psi (w − w_avg)` for style inputs `l < cutoff` (default all).
   * @param w [B, D] (broadcast to every style input) or ws [B, L, D]
   * @returns ws [B, L, D] (generator-owned)
   */
  truncate(w: Tensor, psi: number, cutoff = this.config.numWs): Tensor {
    const { batch, config: c } = this;
    const perLayer = w.shape.length === 3;
    w.expectShape(perLayer ? [batch, c.numWs, c.wDim] : [batch, c.wDim], "Generator.truncate w");
    const t = perLayer ? this.#truncWs : this.#truncW;
    const input = perLayer ? this.#wsIn : this.#wIn;
    setTruncation(this.gpu, t.dispatch, input, t.out, psi, cutoff);
    this.#run([t.dispatch], [[w, input]], "truncate");
    return t.out;
  }

  /**
   * Style mixing: style inputs `from <= l < to` come from `b`, the others from `a`.
   * `styleInputResolutions()` tells which resolution each input drives.
   * @param a [B, L, D]
   * @param b [B, L, D]
   * @returns ws [B, L, D] (generator-owned)
   */
  mixWs(a: Tensor, b: Tensor, from: number, to = this.config.numWs): Tensor {
    const shape = [this.batch, this.config.numWs, this.config.wDim];
    a.expectShape(shape, "Generator.mixWs a");
    b.expectShape(shape, "Generator.mixWs b");
    setMixRange(this.gpu, this.#mix.dispatch, this.#mix.out, from, to);
    this.#run([this.#mix.dispatch], [[a, this.#mixA], [b, this.#mixB]], "mix");
    return this.#mix.out;
  }

  /**
   * Synthesis network.
   * @param ws latents [B, L, D]
   * @returns images [B, C, R, R], about [-1, 1] (generator-owned)
   */
  synthesize(ws: Tensor, opts: SynthesisOptions): Tensor {
    const c = this.config;
    ws.expectShape([this.batch, c.numWs, c.wDim], "Generator.synthesize ws");
    this.#writeNoise(opts);
    this.#run(this.#net.dispatches, [[ws, this.#net.ws]], "synthesis");
    return this.#net.img;
  }

  /** The image tensor every `synthesize` writes [B, C, R, R] (for binding consumers once). */
  get output(): Tensor {
    return this.#net.img;
  }

  /**
   * Intermediate tensors of the last `synthesize`, by golden name: `act.b{r}.conv{k}.styles`,
   * `.out`, `act.b{r}.torgb.styles` (divided by sqrt(C_r)), `.out`, `act.b{r}.x`,
   * `act.b{r}.img`, `act.b{r}.img_up`. They are the generator's own buffers.
   */
  activations(): ReadonlyMap<string, Tensor> {
    return this.#net.activations;
  }

  /** For each style input index i, the resolution it feeds: 4 · 2^floor(i / 2). */
  styleInputResolutions(): number[] {
    return Array.from({ length: this.config.numWs }, (_, i) => 4 * 2 ** Math.floor(i / 2));
  }

  /** Frees every GPU buffer of the generator. */
  destroy(): void {
    for (const t of this.#owned) t.destroy();
    this.#owned = [];
  }

  /** Copies inputs into the bound tensors (unless they are the same) and runs one pass. */
  #run(dispatches: readonly Dispatch[], inputs: [Tensor, Tensor][], label: string): void {
    const enc = this.gpu.device.createCommandEncoder({ label });
    for (const [src, dst] of inputs) {
      if (src !== dst) enc.copyBufferToBuffer(src.buffer, 0, dst.buffer, 0, dst.size * 4);
    }
    encode(enc, dispatches, label);
    this.gpu.device.queue.submit([enc.finish()]);
  }

  /** Fills the noise inputs for this call; constant and zero noise are written on change. */
  #writeNoise(opts: SynthesisOptions): void {
    if (opts.noise === "random") {
      if (!opts.rng) throw new TypeError("Generator.synthesize: noise 'random' needs an rng");
      for (const n of this.#net.noise) n.tensor.write(opts.rng.normals(this.batch * n.size ** 2));
    } else if (opts.noise !== this.#noiseMode) {
      for (const n of this.#net.noise) {
        const data = new Float32Array(this.batch * n.size ** 2);
        if (opts.noise === "const") {
          for (let b = 0; b < this.batch; b++) data.set(n.constant, b * n.size ** 2);
        }
        n.tensor.write(data);
      }
    }
    this.#noiseMode = opts.noise;
  }
}
