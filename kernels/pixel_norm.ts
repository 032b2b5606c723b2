/** Pixel norm of latent rows, the first step of the StyleGAN2 mapping network. */
import src from "./pixel_norm.wgsl" with { type: "text" };
import type { Gpu } from "./device.ts";
import { type Dispatch, groups, Kernel } from "./kernel.ts";
import type { Tensor } from "./tensor.ts";

const kernel = new Kernel("pixel_norm", src);

/**
 * Binds `y[r, :] = x[r, :] / sqrt(mean(x[r, :]²) + 1e-8)`.
 * @param x input [R, D]
 * @param y output [R, D]
 */
export function pixelNorm(gpu: Gpu, x: Tensor, y: Tensor): Dispatch {
  x.expectShape([-1, -1], "pixel_norm input");
  y.expectShape(x.shape, "pixel_norm output");
  const [rows, dim] = x.shape;
  return kernel.bind(gpu, [x, y], { rows, dim }, [groups(rows, 64)]);
}
