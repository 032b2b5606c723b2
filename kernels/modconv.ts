/**
 * Modulated 3x3 convolution with the fused noise, bias, activation and clamp epilogue: the
 * same-size StyleGAN2 layer (conv1) and the up-sampling layer (conv0) in its 4-phase form.
 * The style modulates the input; `demod` supplies the per-output scale.
 */
import src from "./modconv.wgsl" with { type: "text" };
import type { Gpu } from "./device.ts";
import { type Dispatch, Kernel } from "./kernel.ts";
import type { Tensor } from "./tensor.ts";

const kernel = new Kernel("modconv", src);

/** Output channels per vec4 group of a packed weight. */
export const CHANNEL_GROUP = 4;
/** Side of the square block of positions one invocation computes. */
const BLOCK = 4;
/** Largest workgroup count per grid dimension guaranteed by WebGPU. */
const MAX_GROUPS = 65535;

function paddedChannels(cout: number): number {
  return Math.ceil(cout / CHANNEL_GROUP) * CHANNEL_GROUP;
}

/**
 * Packs a 3x3 conv weight for `modconv`: `[1, I, 9, ceil(O/4) · 4]`, zero padded.
 * @param weight [O, I, 3, 3] row-major
 */
export function packConv3x3(weight: Float32Array, cout: number, cin: number): Float32Array {
  const opad = paddedChannels(cout);
  const out = new Float32Array(cin * 9 * opad);
  for (let o = 0; o < cout; o++) {
    for (let i = 0; i < cin; i++) {
      for (let k = 0; k < 9; k++) out[(i * 9 + k) * opad + o] = weight[(o * cin + i) * 9 + k];
    }
  }
  return out;
}

/**
 * Folds the FIR filter into the weight of an up-sampling layer and packs the four phases for
 * `modconvUp`: `K = (4 f) ∗ W` (full convolution, 6x6), stored as
 * `[4 (ρ, σ), I, 9 (e, h), ceil(O/4) · 4]` holding `K[o, i, 4 + ρ − 2e, 4 + σ − 2h]`.
 * @param weight [O, I, 3, 3] row-major
 * @param filter resample filter f [4, 4] (the gain 4 is applied here)
 */
export function packUpConv(
  weight: Float32Array,
  filter: Float32Array,
  cout: number,
  cin: number,
): Float32Array {
  const opad = paddedChannels(cout);
  const out = new Float32Array(4 * cin * 9 * opad);
  const k6 = new Float64Array(36);
  for (let o = 0; o < cout; o++) {
    for (let i = 0; i < cin; i++) {
      k6.fill(0);
      for (let u = 0; u < 3; u++) {
        for (let v = 0; v < 3; v++) {
          const wv = weight[((o * cin + i) * 3 + u) * 3 + v];
          for (let a = 0; a < 4; a++) {
            for (let b = 0; b < 4; b++) k6[(u + a) * 6 + v + b] += 4 * filter[a * 4 + b] * wv;
          }
        }
      }
      for (let ph = 0; ph < 4; ph++) {
        const rho = ph >> 1, sig = ph & 1;
        for (let e = 0; e < 3; e++) {
          for (let h = 0; h < 3; h++) {
            const kv = k6[(4 + rho - 2 * e) * 6 + 4 + sig - 2 * h];
            out[(((ph * cin + i) * 9) + e * 3 + h) * opad + o] = kv;
          }
        }
      }
    }
  }
  return out;
}

/** Tensors of one modulated convolution layer. */
export interface ModConvTensors {
  /** Input activations [B, I, H, W]. */
  x: Tensor;
  /** Styles [B, I]. */
  styles: Tensor;
  /** Packed weight [phases · I · 9 · ceil(O/4) · 4] (`packConv3x3` / `packUpConv`). */
  weight: Tensor;
  /** Demodulation [B, O]. */
  demod: Tensor;
  /** Bias [O]. */
  bias: Tensor;
  /** Noise images [B, Ho, Wo], scaled by `strength`. */
  noise: Tensor;
  /** Output activations [B, O, Ho, Wo]. */
  out: Tensor;
}

/** Scalars of one modulated convolution layer. */
export interface ModConvOptions {
  /** Noise strength (scalar weight of the layer). */
  strength: number;
  /** Output clamp (`conv_clamp`), or null for none. */
  clamp: number | null;
  /** Vec4 channel groups per invocation (1 or 2; default 2 when O > 4). */
  channelGroups?: 1 | 2;
}

/** Binds one same-size modulated 3x3 convolution: x [B, I, H, W] → out [B, O, H, W]. */
export function modconv(gpu: Gpu, t: ModConvTensors, opts: ModConvOptions): Dispatch {
  return _bind(gpu, t, opts, false);
}

/** Binds one up-sampling modulated convolution: x [B, I, H, W] → out [B, O, 2H, 2W]. */
export function modconvUp(gpu: Gpu, t: ModConvTensors, opts: ModConvOptions): Dispatch {
  return _bind(gpu, t, opts, true);
}

function _bind(gpu: Gpu, t: ModConvTensors, opts: ModConvOptions, up: boolean): Dispatch {
  const what = up ? "modconv_up" : "modconv";
  t.x.expectShape([-1, -1, -1, -1], `${what} input`);
  const [batch, cin, height, width] = t.x.shape;
  const cout = t.bias.shape[0];
  for (const [dim, v] of [["height", height], ["width", width]] as const) {
    if (v % BLOCK !== 0) {
      throw new RangeError(`${what}: input ${dim} is ${v}, expected a multiple of ${BLOCK}`);
    }
  }
  const phases = up ? 4 : 1;
  const [ho, wo] = [height * (up ? 2 : 1), width * (up ? 2 : 1)];
  t.styles.expectShape([batch, cin], `${what} styles`);
  t.demod.expectShape([batch, cout], `${what} demodulation`);
  t.bias.expectShape([cout], `${what} bias`);
  t.weight.expectShape([phases * cin * 9 * paddedChannels(cout)], `${what} packed weight`);
  t.noise.expectShape([batch, ho, wo], `${what} noise`);
  t.out.expectShape([batch, cout, ho, wo], `${what} output`);

  const cout4 = paddedChannels(cout) / CHANNEL_GROUP;
  const og = opts.channelGroups ?? (cout4 > 1 ? 2 : 1);
  const items = batch * (height / BLOCK) * (width / BLOCK);
  // Small layers get small workgroups so few lanes idle (8 keeps a CPU SIMD row busy).
  let wg = 8;
  while (wg < 64 && wg < items) wg *= 2;
  const needed = Math.ceil(items / wg);
  const groupsX = Math.min(needed, MAX_GROUPS);
  const grid = [groupsX, Math.ceil(cout4 / og) * phases, Math.ceil(needed / groupsX)] as const;
  return kernel.bind(
    gpu,
    [t.x, t.x, t.styles, t.weight, t.demod, t.bias, t.noise, t.out],
    {
      batch,
      cin,
      cout,
      height,
      width,
      cout4,
      strength: opts.strength,
      clamp: opts.clamp ?? 3.4e38,
      groups_x: groupsX,
    },
    grid,
    { WG: wg, OG: og, UP: up ? 1 : 0 },
  );
}
