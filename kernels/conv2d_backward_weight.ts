/**
 * Weight and bias gradients of the 3x3 conv: per-chunk partial sums over the B*H image rows
 * (`conv2d_backward_weight.wgsl`), then a reduction over chunks, so a GPU gets enough
 * parallelism while each invocation keeps its accumulators in registers.
 */
import type { Gpu } from "./device.ts";
import { Kernel } from "./kernel.ts";
import { Tensor } from "./tensor.ts";
import { type BoundOp, boundOp } from "./bound_op.ts";
import src from "./conv2d_backward_weight.wgsl" with { type: "text" };
import reduceSrc from "./conv2d_backward_weight_reduce.wgsl" with { type: "text" };

const partialKernel = new Kernel("conv2d_backward_weight", src);
const reduceKernel = new Kernel("conv2d_backward_weight_reduce", reduceSrc);

/** Invocations the partial pass aims for (enough to fill a GPU). */
const TARGET_INVOCATIONS = 8192;

/** Register tile of the partial pass: output channels, input channels, pixels per segment. */
export interface BackwardWeightTile {
  ot: number;
  it: number;
  px: number;
}

/** The tile used for a layer: all input channels of a thin input (e.g. RGB), else 2. */
export function conv2dBackwardWeightTile(cin: number, width: number): BackwardWeightTile {
  const it = cin <= 4 ? cin : 2;
  return { ot: 4, it, px: width >= 8 ? 8 : 4 };
}

/**
 * dw = dL/dweight and db = dL/dbias of y = conv3x3(x, w) + b, given dy (both overwritten).
 * @param x input [B, Cin, H, W]
 * @param dy output gradient [B, Cout, H, W]
 * @param dw [Cout, Cin, 3, 3]
 * @param db [Cout]
 * @param tile register tile override (benchmarks); default `conv2dBackwardWeightTile`
 */
export function conv2dBackwardWeight(
  gpu: Gpu,
  x: Tensor,
  dy: Tensor,
  dw: Tensor,
  db: Tensor,
  tile?: BackwardWeightTile,
): BoundOp {
  const [batch, cin, height, width] = x.shape;
  const cout = dy.shape[1];
  dy.expectShape([batch, -1, height, width], "conv2d_backward_weight dy");
  dw.expectShape([cout, cin, 3, 3], "conv2d_backward_weight dw");
  db.expectShape([cout], "conv2d_backward_weight db");
  const { ot, it, px } = tile ?? conv2dBackwardWeightTile(cin, width);
  if (ot * it * 9 > 144 || ot > 8 || it * 3 * (px + 2) > 240 || ot * px > 64 || px > 16) {
    throw new RangeError(`conv2d_backward_weight tile ${ot}x${it}x${px} exceeds the kernel's`);
  }
  const tilesO = Math.ceil(cout / ot);
  const tilesI = Math.ceil(cin / it);
  const rows = batch * height;
  const wanted = Math.ceil(TARGET_INVOCATIONS / (tilesO * tilesI));
  const rowsPerChunk = Math.max(1, Math.ceil(rows / wanted));
  const chunks = Math.ceil(rows / rowsPerChunk);
  const cols = cin * 9 + 1;
  const part = Tensor.zeros(gpu, [chunks, cout, cols], `${dw.label}:partials`);
  const wg = Math.min(64, 2 ** Math.ceil(Math.log2(tilesO)));
  const partial = partialKernel.bind(
    gpu,
    [x, dy, part],
    {
      batch,
      cin,
      cout,
      height,
      width,
      tiles_x: Math.ceil(width / px),
      rows_per_chunk: rowsPerChunk,
    },
    [Math.ceil(tilesO / wg), tilesI, chunks],
    { OT: ot, IT: it, PX: px, WG: wg },
  );
  const reduce = reduceKernel.bind(gpu, [part, dw, db], { cout, cols, chunks }, [
    Math.ceil((cout * cols) / 64),
  ]);
  return boundOp([partial, reduce], [part]);
}
