/**
 * The StyleGAN2 up-sampling layer (conv0) in two passes: a modulated transposed convolution
 * (stride 2, 9 taps per input pixel) into a padded scratch tensor, then the FIR filter with the
 * demodulation, noise, bias, activation and clamp epilogue (`up_epilogue.ts`). This costs a
 * quarter of the multiply-adds of the equivalent 4-phase convolution with the filter folded
 * into the weights.
 */
import src from "./modconv_up.wgsl" with { type: "text" };
import blockSrc from "./conv_block.wgsl" with { type: "text" };
import type { Gpu } from "./device.ts";
import { type Dispatch, Kernel } from "./kernel.ts";
import { CHANNEL_GROUP, paddedChannels, tileGrid } from "./modconv.ts";
import type { Tensor } from "./tensor.ts";
import { upEpilogue } from "./up_epilogue.ts";

const kernel = new Kernel("modconv_up", blockSrc + src);

/** Tensors of one up-sampling layer. */
export interface ModConvUpTensors {
  /** Input activations [B, I, H, W]. */
  x: Tensor;
  /** Styles [B, I]. */
  styles: Tensor;
  /** Packed weight [I · 9 · ceil(O/4) · 4] (`packConv3x3`). */
  weight: Tensor;
  /** Filter taps [4, 4] (`upFilterTaps`). */
  taps: Tensor;
  /** Demodulation [B, O]. */
  demod: Tensor;
  /** Bias [O]. */
  bias: Tensor;
  /** Noise images [B, 2H, 2W], scaled by `strength`. */
  noise: Tensor;
  /** Output activations [B, O, 2H, 2W]. */
  out: Tensor;
  /**
   * Scratch for the transposed-convolution sums [B, O, 2H + 4, 2W + 4], zero when created:
   * its one-pixel border is the filter's padding and is never written.
   */
  sums: Tensor;
}

/** Scalars of one up-sampling layer. */
export interface ModConvUpOptions {
  /** Noise strength (scalar weight of the layer). */
  strength: number;
  /** Output clamp (`conv_clamp`), or null for none. */
  clamp: number | null;
  /** Vec4 output-channel groups per invocation, 1 or 2 (tuning; default 2 when O > 4). */
  channelGroups?: 1 | 2;
}

/** Binds one up-sampling modulated convolution: x [B, I, H, W] → out [B, O, 2H, 2W]. */
export function modconvUp(
  gpu: Gpu,
  t: ModConvUpTensors,
  opts: ModConvUpOptions,
): Dispatch[] {
  const what = "modconv_up";
  t.x.expectShape([-1, -1, -1, -1], `${what} input`);
  const [batch, cin, height, width] = t.x.shape;
  const cout = t.bias.shape[0];
  for (const [dim, v] of [["height", height], ["width", width]] as const) {
    if (v % 4 !== 0) {
      throw new RangeError(`${what}: input ${dim} is ${v}, expected a multiple of 4`);
    }
  }
  t.styles.expectShape([batch, cin], `${what} styles`);
  t.weight.expectShape([cin * 9 * paddedChannels(cout)], `${what} packed weight`);
  const cout4 = paddedChannels(cout) / CHANNEL_GROUP;
  t.sums.expectShape([batch, cout, 2 * height + 4, 2 * width + 4], `${what} sums`);
  const og = opts.channelGroups ?? (cout4 > 1 ? 2 : 1);
  const { wg, grid } = tileGrid(batch * (height / 4) * (width / 4), Math.ceil(cout4 / og));
  const conv = kernel.bind(
    gpu,
    [t.x, t.x, t.styles, t.weight, t.sums],
    {
      batch,
      cin,
      cout,
      height,
      width,
      cout4,
      groups_y: grid[1],
    },
    grid,
    { WG: wg },
  );
  return [conv, upEpilogue(gpu, t, opts)];
}
