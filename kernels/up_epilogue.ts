/**
 * Second step of the StyleGAN2 up-sampling layer: FIR filter over the transposed-convolution
 * sums, then demodulation, noise, bias, activation and clamp (see `modconv_up.ts`).
 */
import src from "./up_epilogue.wgsl" with { type: "text" };
import type { Gpu } from "./device.ts";
import { type Dispatch, Kernel } from "./kernel.ts";
import { tileGrid } from "./modconv.ts";
import type { Tensor } from "./tensor.ts";

const kernel = new Kernel("up_epilogue", src);

/**
 * The filter taps as the kernel reads them: `G[a, b] = 4 f[3 − a, 3 − b]` (flipped, gain 4).
 * @param filter resample filter f [4, 4], row-major
 */
export function upFilterTaps(filter: Float32Array): Float32Array {
  return new Float32Array(16).map((_, k) => 4 * filter[15 - k]);
}

/** Tensors of the up-sampling epilogue. */
export interface UpEpilogueTensors {
  /** Padded transposed-convolution sums [B, O, Ho + 4, Wo + 4] (`modconv_up`). */
  sums: Tensor;
  /** Filter taps [4, 4] (`upFilterTaps`). */
  taps: Tensor;
  /** Demodulation [B, O]. */
  demod: Tensor;
  /** Bias [O]. */
  bias: Tensor;
  /** Noise images [B, Ho, Wo], scaled by `strength`. */
  noise: Tensor;
  /** Output activations [B, O, Ho, Wo]. */
  out: Tensor;
}

/** Binds the epilogue: sums [B, O, Ho + 4, Wo + 4] → out [B, O, Ho, Wo]. */
export function upEpilogue(
  gpu: Gpu,
  t: UpEpilogueTensors,
  opts: { strength: number; clamp: number | null },
): Dispatch {
  t.out.expectShape([-1, -1, -1, -1], "up_epilogue output");
  const [batch, cout, height, width] = t.out.shape;
  if (height % 4 !== 0) {
    throw new RangeError(`up_epilogue: output height is ${height}, expected a multiple of 4`);
  }
  if (width % 8 !== 0) {
    throw new RangeError(`up_epilogue: output width is ${width}, expected a multiple of 8`);
  }
  t.sums.expectShape([batch, cout, height + 4, width + 4], "up_epilogue sums");
  t.taps.expectShape([4, 4], "up_epilogue filter taps");
  t.demod.expectShape([batch, cout], "up_epilogue demodulation");
  t.bias.expectShape([cout], "up_epilogue bias");
  t.noise.expectShape([batch, height, width], "up_epilogue noise");
  const { wg, grid } = tileGrid(batch * cout * (height / 4) * (width / 8), 1);
  return kernel.bind(
    gpu,
    [t.sums, t.taps, t.demod, t.bias, t.noise, t.out],
    {
      batch,
      cout,
      height,
      width,
      strength: opts.strength,
      clamp: opts.clamp ?? 3.4e38,
      groups_y: grid[1],
    },
    grid,
    { WG: wg },
  );
}
