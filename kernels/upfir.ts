/** 2x FIR up-sampling of the StyleGAN2 skip image. */
import src from "./upfir.wgsl" with { type: "text" };
import { flatGrid } from "./_flat_grid.ts";
import type { Gpu } from "./device.ts";
import { type Dispatch, Kernel } from "./kernel.ts";
import type { Tensor } from "./tensor.ts";

const kernel = new Kernel("upfir", src);

/**
 * Binds `y[n, c, p, q] = Σ_{m, k} x[n, c, m, k] · g[p + 1 − 2m, q + 1 − 2k]`.
 * @param x image [B, C, H, W]
 * @param g filter times its gain (4 f) [4, 4]
 * @param y up-sampled image [B, C, 2H, 2W]
 */
export function upfir(gpu: Gpu, x: Tensor, g: Tensor, y: Tensor): Dispatch {
  x.expectShape([-1, -1, -1, -1], "upfir input");
  const [batch, channels, height, width] = x.shape;
  g.expectShape([4, 4], "upfir filter");
  y.expectShape([batch, channels, 2 * height, 2 * width], "upfir output");
  const { grid, strideX } = flatGrid(y.size);
  return kernel.bind(
    gpu,
    [x, g, y],
    { planes: batch * channels, height, width, stride_x: strideX },
    grid,
  );
}
