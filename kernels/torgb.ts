/** StyleGAN2 toRGB: modulated 1x1 convolution (no demodulation) plus the skip image. */
import src from "./torgb.wgsl" with { type: "text" };
import { flatGrid } from "./_flat_grid.ts";
import type { Gpu } from "./device.ts";
import { type Dispatch, Kernel } from "./kernel.ts";
import type { Tensor } from "./tensor.ts";

const kernel = new Kernel("torgb", src);

/** Most image channels `torgb` produces (one vec4). */
export const MAX_IMG_CHANNELS = 4;

/**
 * Packs a toRGB weight as `[I, 4]` (image channels padded to 4).
 * @param weight [C, I, 1, 1] row-major, C <= 4
 */
export function packToRgb(weight: Float32Array, cimg: number, cin: number): Float32Array {
  if (cimg > MAX_IMG_CHANNELS) {
    throw new RangeError(`torgb: ${cimg} image channels, at most ${MAX_IMG_CHANNELS} supported`);
  }
  const out = new Float32Array(cin * 4);
  for (let c = 0; c < cimg; c++) {
    for (let i = 0; i < cin; i++) out[i * 4 + c] = weight[c * cin + i];
  }
  return out;
}

/** Tensors of one toRGB layer. */
export interface ToRgbTensors {
  /** Features [B, I, H, W]. */
  x: Tensor;
  /** Styles [B, I], already divided by sqrt(I). */
  styles: Tensor;
  /** Packed weight [I · 4] (`packToRgb`). */
  weight: Tensor;
  /** Bias [C]. */
  bias: Tensor;
  /** Skip image added to the output [B, C, H, W]. */
  skip: Tensor;
  /** toRGB output with bias [B, C, H, W]. */
  out: Tensor;
  /** `out + skip` [B, C, H, W]. */
  img: Tensor;
}

/** Binds `out = clamp(Σ_i W[c, i] s[n, i] x[n, i] + bias[c])`, `img = out + skip`. */
export function toRgb(gpu: Gpu, t: ToRgbTensors, clamp: number | null): Dispatch {
  t.x.expectShape([-1, -1, -1, -1], "torgb input");
  const [batch, cin, height, width] = t.x.shape;
  const cout = t.bias.shape[0];
  const pixels = height * width;
  if (pixels % 4 !== 0) throw new RangeError(`torgb: ${pixels} pixels, expected a multiple of 4`);
  if (cout > MAX_IMG_CHANNELS) {
    throw new RangeError(`torgb: ${cout} image channels, at most ${MAX_IMG_CHANNELS} supported`);
  }
  t.styles.expectShape([batch, cin], "torgb styles");
  t.weight.expectShape([cin * 4], "torgb packed weight");
  for (const [name, tensor] of [["skip", t.skip], ["out", t.out], ["img", t.img]] as const) {
    tensor.expectShape([batch, cout, height, width], `torgb ${name}`);
  }
  const { grid, strideX } = flatGrid(batch * pixels / 4);
  return kernel.bind(
    gpu,
    [t.x, t.styles, t.weight, t.bias, t.skip, t.out, t.img],
    { batch, cin, cout, pixels, stride_x: strideX, clamp: clamp ?? 3.4e38 },
    grid,
  );
}
