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

/**
 * dw = dL/dweight and db = dL/dbias of y = conv3x3(x, w) + b, given dy (both overwritten).
 * @param x input [B, Cin, H, W]
 * @param dy output gradient [B, Cout, H, W]
 * @param dw [Cout, Cin, 3, 3]
 * @param db [Cout]
 */
export function conv2dBackwardWeight(
  gpu: Gpu,
  x: Tensor,
  dy: Tensor,
  dw: Tensor,
  db: Tensor,
): BoundOp {
  const [batch, cin, height, width] = x.shape;
  const cout = dy.shape[1];
  dy.expectShape([batch, -1, height, width], "conv2d_backward_weight dy");
  dw.expectShape([cout, cin, 3, 3], "conv2d_backward_weight dw");
  db.expectShape([cout], "conv2d_backward_weight db");
  const ci = Math.min(4, cin);
  const groupsI = Math.ceil(cin / ci);
  const rows = batch * height;
  const wanted = Math.ceil(TARGET_INVOCATIONS / (cout * groupsI));
  const rowsPerChunk = Math.max(1, Math.ceil(rows / wanted));
  const chunks = Math.ceil(rows / rowsPerChunk);
  const cols = cin * 9 + 1;
  const part = Tensor.zeros(gpu, [chunks, cout, cols], `${dw.label}:partials`);
  const wg = Math.min(64, 2 ** Math.ceil(Math.log2(cout)));
  const partial = partialKernel.bind(
    gpu,
    [x, dy, part],
    { batch, cin, cout, height, width, rows_per_chunk: rowsPerChunk },
    [Math.ceil(cout / wg), groupsI, chunks],
    { CI: ci, WG: wg },
  );
  const reduce = reduceKernel.bind(gpu, [part, dw, db], { cout, cols, chunks }, [
    Math.ceil((cout * cols) / 64),
  ]);
  return boundOp([partial, reduce], [part]);
}
