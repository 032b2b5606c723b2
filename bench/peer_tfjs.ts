/**
 * TensorFlow.js WebGPU backend as the benchmark's peer: the same ops as our kernels, expressed
 * the way a tfjs user would write them, run on the same adapter in the same process.
 *
 * Each op factory takes our layouts (row-major, NCHW images, [O, I, 3, 3] weights), converts
 * once at setup (tfjs convolves NHWC with [kh, kw, in, out] filters) and returns a `PeerOp`:
 * `run()` executes the op once and waits for the GPU, `check()` returns the output converted
 * back to our layout. Missing inputs are drawn from a seeded `Rng`.
 *
 * Sync: tfjs batches dispatches into its own command encoder. `run()` ends the pass, submits
 * (the backend's public `submitQueue`) and awaits `queue.onSubmittedWorkDone()`: no extra
 * kernel and no read-back. Deno wakes GPU waits on a ~10 ms poll, so any single timed call,
 * ours or the peer's, costs at least ~10 ms on this runtime.
 *
 * Shape legend: B batch, C/I input channels, O output channels, H, W spatial, N classes,
 * K support per class, Q queries per class, D embedding.
 */
// Pinned inline until deno.json maps these (then import the bare names and drop the ignores).
import type * as TfCore from "@tensorflow/tfjs-core";
import type { WebGPUBackend } from "@tensorflow/tfjs-backend-webgpu";
import { Rng } from "../data/random.ts";

type Tf = typeof TfCore;
type Tensor = TfCore.Tensor;

/** The tfjs versions this peer is pinned to (tfjs-core and tfjs-backend-webgpu alike). */
export const TFJS_VERSION = "4.22.0";

/** One op built for fixed shapes and inputs. */
export interface PeerOp {
  /** e.g. "conv2d 30x64x32x32->64". */
  readonly name: string;
  /** Floating-point operations of one run (a multiply-add counts 2), as defined per op. */
  readonly flops: number;
  /**
   * Runs the op `times` times (default 1) back to back and resolves when the GPU has finished
   * them all: one GPU wait, however many runs. Warm up first.
   */
  readonly run: (times?: number) => Promise<void>;
  /** Runs the op once and returns its output in our layout (see each factory). */
  readonly check: () => Promise<Float32Array>;
  /** Frees the op's input tensors. */
  readonly dispose: () => void;
}

/** Shape and optional inputs of a 3x3, stride 1, padding 1 convolution. */
export interface ConvSpec {
  batch: number;
  cin: number;
  cout: number;
  height: number;
  width: number;
  /** Input [B, I, H, W]. */
  x?: Float32Array;
  /** Weight [O, I, 3, 3]. */
  w?: Float32Array;
  /** Output gradient [B, O, H, W] (backward ops only). */
  dy?: Float32Array;
}

/** A StyleGAN2 modulated 3x3 conv layer, same size or 2x up-sampling. */
export interface ModConvSpec {
  batch: number;
  cin: number;
  cout: number;
  /** Input height and width (the output is twice as large when `up`). */
  height: number;
  width: number;
  /** Transposed conv stride 2, then a 4x4 FIR blur with gain 4 (output 2H x 2W). */
  up?: boolean;
  /** Input [B, I, H, W]. */
  x?: Float32Array;
  /** Styles [B, I]. */
  s?: Float32Array;
  /** Weight [O, I, 3, 3]. */
  w?: Float32Array;
  /** Bias [O]; zeros by default. */
  bias?: Float32Array;
  /** Noise image [B, Ho, Wo], added times `strength`; omitted (no add) by default. */
  noise?: Float32Array;
  strength?: number;
  /** Output clamp; none by default. */
  clamp?: number | null;
  /** FIR filter f [4, 4] (normalised to sum 1); [1, 3, 3, 1] outer product by default. */
  filter?: Float32Array;
}

/** The StyleGAN2 mapping network: pixel norm, then `layers` equalised-lr dense layers. */
export interface MappingSpec {
  batch?: number;
  dim?: number;
  layers?: number;
  lrMul?: number;
  /** Latents [B, D]. */
  z?: Float32Array;
  /** Per layer: weight [D, D] as [out, in]. */
  weights?: Float32Array[];
  /** Per layer: bias [D]. */
  biases?: Float32Array[];
}

/** A [B, C, H, W] activation for batch norm and max-pool. */
export interface ImageSpec {
  batch: number;
  channels: number;
  height: number;
  width: number;
  /** Input [B, C, H, W]. */
  x?: Float32Array;
}

/** An episode's embeddings for the prototypical loss. */
export interface ProtoSpec {
  nWay: number;
  kShot: number;
  nQuery: number;
  dim: number;
  /** Embeddings [N*K + N*Q, D]: support then query, class-major. */
  e?: Float32Array;
}

/** Result of `initTfjsPeer`: the peer, or the reason there is none. */
export type TfjsPeerInit =
  | { peer: TfjsPeer; reason?: undefined }
  | { peer?: undefined; reason: string };

/** Options of `initTfjsPeer`. */
export interface TfjsPeerOptions {
  /** Extra tfjs flags, e.g. `{ WEBGPU_USE_NAIVE_CONV2D_TRANSPOSE: false }`. */
  flags?: Record<string, number | boolean | string>;
}

let initialised: Promise<TfjsPeerInit> | undefined;

/**
 * Loads tfjs-core and tfjs-backend-webgpu, selects the WebGPU backend (never CPU: CPU
 * forwarding of small ops is switched off) and returns the peer, or a reason string when any
 * step fails. The first call decides; later calls return the same result.
 */
export function initTfjsPeer(options: TfjsPeerOptions = {}): Promise<TfjsPeerInit> {
  initialised ??= load(options);
  return initialised;
}

async function load(options: TfjsPeerOptions): Promise<TfjsPeerInit> {
  if (typeof navigator === "undefined" || !("gpu" in navigator)) {
    return { reason: "navigator.gpu is missing in this runtime" };
  }
  // Same request tfjs makes; checked here so a missing adapter gives a reason, not its stack.
  if (!(await navigator.gpu.requestAdapter({ powerPreference: "high-performance" }))) {
    return { reason: "no WebGPU adapter (navigator.gpu.requestAdapter returned null)" };
  }
  let tf: Tf;
  try {
    tf = await import("@tensorflow/tfjs-core");
    await import("@tensorflow/tfjs-backend-webgpu");
  } catch (e) {
    return { reason: `cannot load tfjs ${TFJS_VERSION}: ${(e as Error).message}` };
  }
  try {
    tf.env().set("WEBGPU_CPU_FORWARD", false);
    for (const [k, v] of Object.entries(options.flags ?? {})) tf.env().set(k, v);
    if (!(await tf.setBackend("webgpu"))) {
      return { reason: "tfjs could not initialise its webgpu backend (no adapter or device?)" };
    }
    await tf.ready();
  } catch (e) {
    return { reason: `tfjs webgpu backend failed: ${(e as Error).message}` };
  }
  if (tf.getBackend() !== "webgpu") {
    return { reason: `tfjs selected backend "${tf.getBackend()}" instead of webgpu` };
  }
  return { peer: new TfjsPeer(tf, tf.backend() as unknown as WebGPUBackend) };
}

function inputs(given: Float32Array | undefined, n: number, rng: Rng, scale: number, what: string) {
  if (given !== undefined) {
    if (given.length !== n) throw new Error(`${what}: length ${given.length}, expected ${n}`);
    return given;
  }
  const v = rng.normals(n);
  for (let i = 0; i < n; i++) v[i] *= scale;
  return v;
}

function positive(op: string, dims: Record<string, number>) {
  for (const [k, v] of Object.entries(dims)) {
    if (!Number.isInteger(v) || v < 1) {
      throw new Error(`${op} ${k} is ${v}, expected an integer ≥ 1`);
    }
  }
}

/** The tfjs WebGPU peer. Build ops once, then time `op.run`. */
export class TfjsPeer {
  readonly #tf: Tf;
  readonly #backend: WebGPUBackend;
  #seed = 1;

  /** Use `initTfjsPeer`. */
  constructor(tf: Tf, backend: WebGPUBackend) {
    this.#tf = tf;
    this.#backend = backend;
  }

  /** The active tfjs backend name; always "webgpu" for a peer returned by `initTfjsPeer`. */
  get backendName(): string {
    return this.#tf.getBackend();
  }

  /** e.g. "tfjs-core 4.22.0 + tfjs-backend-webgpu 4.22.0 (webgpu)". */
  get description(): string {
    return `tfjs-core ${this.#tf.version_core} + tfjs-backend-webgpu ${TFJS_VERSION} ` +
      `(${this.backendName})`;
  }

  /** Live tfjs tensors; stable across runs when nothing leaks. */
  get liveTensors(): number {
    return this.#tf.memory().numTensors;
  }

  /** Submits everything tfjs has recorded and waits until the GPU has run it. */
  async sync(): Promise<void> {
    const b = this.#backend;
    b.ensureCommandEncoderReady();
    b.endComputePassEncoder();
    b.submitQueue();
    await b.queue.onSubmittedWorkDone();
  }

  #rng(): Rng {
    return new Rng(this.#seed++);
  }

  #op(
    name: string,
    flops: number,
    keep: Tensor[],
    compute: () => Tensor,
    toOurs: (y: Tensor) => Tensor = (y) => y,
  ): PeerOp {
    const tf = this.#tf;
    // tfjs defers disposing a tensor its unsubmitted commands still use, so each output can
    // be freed at once; tfjs may submit in chunks, but only the last submit is waited for.
    const run = async (times = 1) => {
      for (let i = 0; i < times; i++) tf.dispose(tf.tidy(compute));
      await this.sync();
    };
    const check = async () => {
      const y = tf.tidy(() => toOurs(compute()));
      try {
        return (await y.data()) as Float32Array;
      } finally {
        y.dispose();
      }
    };
    return { name, flops, run, check, dispose: () => tf.dispose(keep) };
  }

  /** NCHW [B, C, H, W] values (given or drawn) as an NHWC tfjs tensor. */
  #nhwc(given: Float32Array | undefined, dims: number[], rng: Rng, what: string) {
    const tf = this.#tf, [b, c, h, w] = dims;
    const v = inputs(given, b * c * h * w, rng, 1, `${what} [B, C, H, W]`);
    return tf.tidy(() => tf.transpose(tf.tensor4d(v, [b, c, h, w]), [0, 2, 3, 1]));
  }

  /** [O, I, 3, 3] weights as a tfjs filter; `perm` picks the target axis order. */
  #filter(v: Float32Array, o: number, i: number, perm: number[]): TfCore.Tensor4D {
    const tf = this.#tf;
    return tf.tidy(() => tf.transpose(tf.tensor4d(v, [o, i, 3, 3]), perm));
  }

  #toNchw = (y: Tensor) => this.#tf.transpose(y, [0, 3, 1, 2]);

  /** `C = A B` with A [M, K], B [K, N]; check returns C [M, N]. flops = 2MKN. */
  matmul(m: number, k: number, n: number, a?: Float32Array, b?: Float32Array): PeerOp {
    positive("matmul", { m, k, n });
    const tf = this.#tf, rng = this.#rng();
    const ta = tf.tensor2d(inputs(a, m * k, rng, 1, "matmul a [M, K]"), [m, k]);
    const tb = tf.tensor2d(inputs(b, k * n, rng, 1, "matmul b [K, N]"), [k, n]);
    return this.#op(`matmul ${m}x${k}x${n}`, 2 * m * k * n, [ta, tb], () => tf.matMul(ta, tb));
  }

  #convCommon(s: ConvSpec) {
    const { batch: b, cin: i, cout: o, height: h, width: w } = s;
    positive("conv2d", { batch: b, cin: i, cout: o, height: h, width: w });
    const tag = `${b}x${i}x${h}x${w}->${o}`, flops = 2 * b * o * i * 9 * h * w;
    return { b, i, o, h, w, rng: this.#rng(), tag, flops };
  }

  /** Forward 3x3 conv, padding 1, no bias: y [B, O, H, W] = conv(x, w). flops = 2BOI9HW. */
  conv2d(spec: ConvSpec): PeerOp {
    const tf = this.#tf, { b, i, o, h, w, rng, tag, flops } = this.#convCommon(spec);
    const x = this.#nhwc(spec.x, [b, i, h, w], rng, "conv2d x");
    const wv = inputs(spec.w, o * i * 9, rng, 1 / Math.sqrt(9 * i), "conv2d w [O, I, 3, 3]");
    const f = this.#filter(wv, o, i, [2, 3, 1, 0]); // [3, 3, I, O]
    return this.#op(`conv2d ${tag}`, flops, [x, f], () => tf.conv2d(x, f, 1, 1), this.#toNchw);
  }

  /**
   * Backward data of `conv2d` (tf.conv2dTranspose, i.e. the Conv2DBackpropInput kernel that
   * tf.grad dispatches): dx [B, I, H, W] from dy [B, O, H, W] and w. flops = 2BOI9HW.
   */
  conv2dBackwardData(spec: ConvSpec): PeerOp {
    const tf = this.#tf, { b, i, o, h, w, rng, tag, flops } = this.#convCommon(spec);
    const dy = this.#nhwc(spec.dy, [b, o, h, w], rng, "conv2d dy");
    const wv = inputs(spec.w, o * i * 9, rng, 1 / Math.sqrt(9 * i), "conv2d w [O, I, 3, 3]");
    const f = this.#filter(wv, o, i, [2, 3, 1, 0]); // [3, 3, I, O]
    const run = () => tf.conv2dTranspose(dy, f, [b, h, w, i], 1, 1);
    return this.#op(`conv2d-dx ${tag}`, flops, [dy, f], run, this.#toNchw);
  }

  /**
   * Backward weight of `conv2d`: dw [O, I, 3, 3] from x and dy, through the Conv2DBackpropFilter
   * kernel that tf.grad dispatches (not exported as an op, so called with `runKernel`).
   * flops = 2BOI9HW.
   */
  conv2dBackwardWeight(spec: ConvSpec): PeerOp {
    const tf = this.#tf, { b, i, o, h, w, rng, tag, flops } = this.#convCommon(spec);
    const x = this.#nhwc(spec.x, [b, i, h, w], rng, "conv2d x");
    const dy = this.#nhwc(spec.dy, [b, o, h, w], rng, "conv2d dy");
    const attrs = { strides: 1, pad: 1, dataFormat: "NHWC", filterShape: [3, 3, i, o] };
    const run = () =>
      tf.engine().runKernel(
        tf.Conv2DBackpropFilter,
        { x, dy },
        attrs as unknown as TfCore.NamedAttrMap,
      ) as Tensor;
    const toOurs = (dw: Tensor) => tf.transpose(dw, [3, 2, 0, 1]);
    return this.#op(`conv2d-dw ${tag}`, flops, [x, dy], run, toOurs);
  }

  /**
   * StyleGAN2 modulated conv with its epilogue: d = rsqrt(s² · Σ_uv w² + 1e-8) [B, O],
   * t = conv(x · s, w) · d (same size) or blur(convT_stride2(x · s, w)) · d (up), then
   * y = clamp(sqrt2 · lrelu_0.2(t + strength · noise + bias)). check returns y [B, O, Ho, Wo]
   * (compare with `modconvRef`). flops = 2BOI9HW (+ 2·16·BO·HoWo for the up blur).
   */
  modconv(spec: ModConvSpec): PeerOp {
    const { batch: b, cin: i, cout: o, height: h, width: w, up = false } = spec;
    positive("modconv", { batch: b, cin: i, cout: o, height: h, width: w });
    const tf = this.#tf, rng = this.#rng();
    const ho = up ? 2 * h : h, wo = up ? 2 * w : w;
    const x = this.#nhwc(spec.x, [b, i, h, w], rng, "modconv x");
    const s = tf.tensor2d(inputs(spec.s, b * i, rng, 1, "modconv s [B, I]"), [b, i]);
    const sImg = tf.reshape(s, [b, 1, 1, i]);
    const wv = inputs(spec.w, o * i * 9, rng, 1, "modconv w [O, I, 3, 3]");
    // Up: conv2dTranspose wants [3, 3, out, in]; same size: conv2d wants [3, 3, in, out].
    const f = this.#filter(wv, o, i, up ? [2, 3, 0, 1] : [2, 3, 1, 0]);
    const wsq = tf.tidy(() => tf.transpose(tf.sum(tf.square(tf.tensor3d(wv, [o, i, 9])), 2)));
    const bias = tf.tensor1d(inputs(spec.bias, o, rng, 0, "modconv bias [O]"));
    const strength = spec.strength ?? 0;
    const noise = spec.noise === undefined ? undefined : tf.tensor4d(
      inputs(spec.noise, b * ho * wo, rng, 1, "modconv noise [B, Ho, Wo]"),
      [b, ho, wo, 1],
    );
    const keep: Tensor[] = [x, s, sImg, f, wsq, bias, ...(noise ? [noise] : [])];
    let blur: TfCore.Tensor4D | undefined;
    if (up) {
      const fir = spec.filter ?? firDefault();
      if (fir.length !== 16) throw new Error(`modconv filter: length ${fir.length}, expected 16`);
      // Cross-correlation with the flipped filter times gain 4, one copy per channel.
      const k = new Float32Array(16 * o);
      for (let a = 0; a < 4; a++) {
        for (let c = 0; c < 4; c++) {
          k.fill(4 * fir[(3 - a) * 4 + 3 - c], (a * 4 + c) * o, (a * 4 + c + 1) * o);
        }
      }
      blur = tf.tensor4d(k, [4, 4, o, 1]);
      keep.push(blur);
    }
    const compute = () => {
      const d = tf.reshape(tf.rsqrt(tf.add(tf.matMul(tf.square(s), wsq), 1e-8)), [b, 1, 1, o]);
      const xm = tf.mul(x, sImg) as TfCore.Tensor4D;
      const conv = blur === undefined ? tf.conv2d(xm, f, 1, 1) : tf.depthwiseConv2d(
        tf.conv2dTranspose(xm, f, [b, 2 * h + 1, 2 * w + 1, o], 2, "valid"),
        blur,
        1,
        [[0, 0], [1, 1], [1, 1], [0, 0]],
      );
      let t = tf.add(tf.mul(conv, d), bias);
      if (noise) t = tf.add(t, tf.mul(noise, strength));
      let y = tf.mul(tf.leakyRelu(t, 0.2), Math.SQRT2);
      if (spec.clamp != null) y = tf.clipByValue(y, -spec.clamp, spec.clamp);
      return y;
    };
    const flops = 2 * b * o * i * 9 * h * w + (up ? 2 * 16 * b * o * ho * wo : 0);
    const name = `modconv${up ? "-up" : ""} ${b}x${i}x${h}x${w}->${o}`;
    return this.#op(name, flops, keep, compute, this.#toNchw);
  }

  /**
   * StyleGAN2 mapping: pixel norm of z, then `layers` × (dense with weight gain lrMul/sqrt(D),
   * bias gain lrMul, sqrt2 · lrelu 0.2), one fused tfjs matMul+bias+leakyrelu per layer (the
   * gains and sqrt2 are folded into the weights at setup). check returns w [B, D].
   * flops = layers · 2BD².
   */
  mapping(spec: MappingSpec = {}): PeerOp {
    const { batch = 256, dim = 128, layers = 4, lrMul = 0.01 } = spec;
    positive("mapping", { batch, dim, layers });
    const tf = this.#tf, rng = this.#rng();
    const z = tf.tensor2d(inputs(spec.z, batch * dim, rng, 1, "mapping z [B, D]"), [batch, dim]);
    const wGain = Math.SQRT2 * lrMul / Math.sqrt(dim), bGain = Math.SQRT2 * lrMul;
    const ws: Tensor[] = [], bs: Tensor[] = [];
    for (let l = 0; l < layers; l++) {
      const wv = inputs(spec.weights?.[l], dim * dim, rng, 1 / lrMul, `mapping weight ${l}`);
      const bv = inputs(spec.biases?.[l], dim, rng, 0, `mapping bias ${l}`);
      ws.push(tf.tidy(() => tf.mul(tf.transpose(tf.tensor2d(wv, [dim, dim])), wGain)));
      bs.push(tf.tidy(() => tf.mul(tf.tensor1d(bv), bGain)));
    }
    const compute = () => {
      const ms = tf.mean(tf.square(z), 1, true);
      let x: Tensor = tf.mul(z, tf.rsqrt(tf.add(ms, 1e-8)));
      for (let l = 0; l < layers; l++) {
        x = tf.fused.matMul({
          a: x as TfCore.Tensor2D,
          b: ws[l] as TfCore.Tensor2D,
          bias: bs[l],
          activation: "leakyrelu",
          leakyreluAlpha: 0.2,
        });
      }
      return x;
    };
    const flops = layers * 2 * batch * dim * dim;
    return this.#op(`mapping ${batch}x${dim}x${layers}`, flops, [z, ...ws, ...bs], compute);
  }

  /**
   * Training-mode batch norm: tf.moments over (B, H, W), tf.batchNorm with gamma/beta, then
   * ReLU unless `relu` is false (our kernel fuses it). check returns [B, C, H, W] (compare
   * with `channelStatsRef` + `batchnormReluRef`, eps 1e-5). flops = 0 (memory bound).
   */
  batchnorm(
    spec: ImageSpec & { gamma?: Float32Array; beta?: Float32Array; relu?: boolean },
  ): PeerOp {
    const { batch: b, channels: c, height: h, width: w, relu = true } = spec;
    positive("batchnorm", { batch: b, channels: c, height: h, width: w });
    const tf = this.#tf, rng = this.#rng();
    const x = this.#nhwc(spec.x, [b, c, h, w], rng, "batchnorm x");
    const gamma = tf.tensor1d(spec.gamma ?? new Float32Array(c).fill(1));
    const beta = tf.tensor1d(spec.beta ?? new Float32Array(c));
    if (gamma.size !== c || beta.size !== c) throw new Error(`batchnorm gamma/beta: expected ${c}`);
    const compute = () => {
      const { mean, variance } = tf.moments(x, [0, 1, 2]);
      const y = tf.batchNorm(x, mean, variance, beta, gamma, 1e-5);
      return relu ? tf.relu(y) : y;
    };
    return this.#op(`batchnorm ${b}x${c}x${h}x${w}`, 0, [x, gamma, beta], compute, this.#toNchw);
  }

  /** 2x2 max-pool, stride 2: check returns [B, C, H/2, W/2]. flops = 0. */
  maxpool(spec: ImageSpec): PeerOp {
    const { batch: b, channels: c, height: h, width: w } = spec;
    positive("maxpool", { batch: b, channels: c, height: h, width: w });
    if (h % 2 !== 0 || w % 2 !== 0) {
      throw new Error(`maxpool: height ${h} and width ${w} must be even`);
    }
    const tf = this.#tf, rng = this.#rng();
    const x = this.#nhwc(spec.x, [b, c, h, w], rng, "maxpool x");
    const compute = () => tf.maxPool(x, 2, 2, "valid");
    return this.#op(`maxpool ${b}x${c}x${h}x${w}`, 0, [x], compute, this.#toNchw);
  }

  /**
   * Prototypical loss: class means of the support embeddings, negative squared distances of
   * each query to each prototype as logits, mean softmax cross entropy against the query's
   * class (tf.losses.softmaxCrossEntropy). check returns [loss] (compare with
   * `protoLossRef(...).loss`). flops = 0.
   */
  protoLoss(spec: ProtoSpec): PeerOp {
    const { nWay: n, kShot: k, nQuery: q, dim: d } = spec;
    positive("protoLoss", { nWay: n, kShot: k, nQuery: q, dim: d });
    const tf = this.#tf, rng = this.#rng();
    const rows = n * (k + q);
    const e = tf.tensor2d(inputs(spec.e, rows * d, rng, 1, "protoLoss e [N(K+Q), D]"), [rows, d]);
    const labels = new Float32Array(n * q * n);
    for (let r = 0; r < n * q; r++) labels[r * n + Math.floor(r / q)] = 1;
    const onehot = tf.tensor2d(labels, [n * q, n]);
    const compute = () => {
      const protos = tf.mean(tf.reshape(tf.slice(e, [0, 0], [n * k, d]), [n, k, d]), 1);
      const query = tf.slice(e, [n * k, 0], [n * q, d]);
      const diff = tf.sub(tf.expandDims(query, 1), tf.expandDims(protos, 0)); // [NQ, N, D]
      const logits = tf.neg(tf.sum(tf.square(diff), 2));
      return tf.reshape(tf.losses.softmaxCrossEntropy(onehot, logits), [1]);
    };
    return this.#op(`protoLoss ${n}w${k}s${q}q d${d}`, 0, [e, onehot], compute);
  }
}

/** StyleGAN2's default resample filter: outer([1, 3, 3, 1]) / 64. */
function firDefault(): Float32Array {
  const t = [1, 3, 3, 1], f = new Float32Array(16);
  for (let a = 0; a < 4; a++) for (let c = 0; c < 4; c++) f[a * 4 + c] = t[a] * t[c] / 64;
  return f;
}
