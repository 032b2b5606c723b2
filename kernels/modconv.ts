/**
 * Modulated 3x3 convolution with the fused noise, bias, activation and clamp epilogue: the
 * same-size StyleGAN2 layer (conv1). The style modulates the input; `demod` supplies the
 * per-output scale. The up-sampling layer (conv0) is `modconv_up.ts`.
 */
import src from "./modconv.wgsl" with { type: "text" };
import blockSrc from "./conv_block.wgsl" with { type: "text" };
import tileSrc from "./conv_tile.wgsl" with { type: "text" };
import type { Gpu } from "./device.ts";
import { type Dispatch, Kernel } from "./kernel.ts";
import type { Tensor } from "./tensor.ts";

const kernel = new Kernel("modconv", blockSrc + tileSrc + src);

/** Output channels per vec4 group of a packed weight. */
export const CHANNEL_GROUP = 4;
/** Side of the square block of pixels that is one unit of an invocation's tile. */
const BLOCK = 4;
/** Largest workgroup count per grid dimension guaranteed by WebGPU. */
const MAX_GROUPS = 65535;

/** Output channels rounded up to whole vec4 groups. */
export function paddedChannels(cout: number): number {
  return Math.ceil(cout / CHANNEL_GROUP) * CHANNEL_GROUP;
}

/**
 * Packs a 3x3 conv weight for `modconv` and `modconvUp`: `[I, 9, ceil(O/4) · 4]`, zero padded.
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

/** Tensors of one modulated convolution layer. */
export interface ModConvTensors {
  /** Input activations [B, I, H, W]. */
  x: Tensor;
  /** Styles [B, I]. */
  styles: Tensor;
  /** Packed weight [I · 9 · ceil(O/4) · 4] (`packConv3x3`). */
  weight: Tensor;
  /** Demodulation [B, O]. */
  demod: Tensor;
  /** Bias [O]. */
  bias: Tensor;
  /** Noise images [B, H, W], scaled by `strength`. */
  noise: Tensor;
  /** Output activations [B, O, H, W]. */
  out: Tensor;
}

/** Scalars of one modulated convolution layer. */
export interface ModConvOptions {
  /** Noise strength (scalar weight of the layer). */
  strength: number;
  /** Output clamp (`conv_clamp`), or null for none. */
  clamp: number | null;
  /** Tile shape per invocation (tuning; default from the layer shape, see `modconvTile`). */
  tile?: ModConvTile;
}

/** An invocation's tile: `rows` x `cols` blocks of 4 x 4 pixels, `channelGroups` x 4 outputs. */
export interface ModConvTile {
  rows: 1 | 2;
  cols: 1 | 2;
  channelGroups: 1 | 2;
}

/**
 * The default tile for a layer: 4 x 8 pixels x 8 channels where the shape allows (measured
 * fastest on llvmpipe; 8 x 8 x 8 spills too many accumulators), smaller otherwise.
 */
export function modconvTile(cout: number, width: number): ModConvTile {
  return {
    rows: 1,
    cols: width % (2 * BLOCK) === 0 ? 2 : 1,
    channelGroups: paddedChannels(cout) > CHANNEL_GROUP ? 2 : 1,
  };
}

/** Binds one same-size modulated 3x3 convolution: x [B, I, H, W] → out [B, O, H, W]. */
export function modconv(gpu: Gpu, t: ModConvTensors, opts: ModConvOptions): Dispatch {
  const what = "modconv";
  t.x.expectShape([-1, -1, -1, -1], `${what} input`);
  const [batch, cin, height, width] = t.x.shape;
  const cout = t.bias.shape[0];
  const tile = opts.tile ?? modconvTile(cout, width);
  for (const [dim, v, n] of [["height", height, tile.rows], ["width", width, tile.cols]] as const) {
    if (v % (BLOCK * n) !== 0) {
      throw new RangeError(`${what}: input ${dim} is ${v}, expected a multiple of ${BLOCK * n}`);
    }
  }
  t.styles.expectShape([batch, cin], `${what} styles`);
  t.demod.expectShape([batch, cout], `${what} demodulation`);
  t.bias.expectShape([cout], `${what} bias`);
  t.weight.expectShape([cin * 9 * paddedChannels(cout)], `${what} packed weight`);
  t.noise.expectShape([batch, height, width], `${what} noise`);
  t.out.expectShape([batch, cout, height, width], `${what} output`);

  const cout4 = paddedChannels(cout) / CHANNEL_GROUP;
  const items = batch * (height / (BLOCK * tile.rows)) * (width / (BLOCK * tile.cols));
  const { wg, grid } = tileGrid(items, Math.ceil(cout4 / tile.channelGroups));
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
      groups_y: grid[1],
    },
    grid,
    { WG: wg, OG: tile.channelGroups, CB: tile.cols, RB: tile.rows },
  );
}

/**
 * Workgroup size and grid for `groupsX` channel tiles (x, the fastest-varying workgroup index,
 * so the tiles that read the same input run back to back; no measurable change on llvmpipe)
 * times `items` flat invocations (y and z). Small layers get small workgroups so few lanes
 * idle (8 keeps a CPU SIMD row busy).
 */
export function tileGrid(
  items: number,
  groupsX: number,
): { wg: number; grid: [number, number, number] } {
  let wg = 8;
  while (wg < 64 && wg < items) wg *= 2;
  const needed = Math.ceil(items / wg);
  const groupsY = Math.min(needed, MAX_GROUPS);
  return { wg, grid: [groupsX, groupsY, Math.ceil(needed / groupsY)] };
}
