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
import blockSrc from "./conv_block.wgsl" with { type: "text" };
import reduceSrc from "./conv2d_backward_weight_reduce.wgsl" with { type: "text" };

const partialKernel = new Kernel("conv2d_backward_weight", blockSrc + src);
const reduceKernel = new Kernel("conv2d_backward_weight_reduce", reduceSrc);

/**
 * Invocations the partial pass aims for: enough to fill a GPU; on a CPU adapter few long chunks
 * (every chunk writes a partial row of all taps that the reduce pass reads back: at 8192
 * invocations the 8x8 layer spent half its time there).
 */
const TARGET_INVOCATIONS = { gpu: 8192, software: 256 };
/** Column steps (4 pixels each) one invocation may take: llvmpipe stops a loop at 65535. */
const MAX_STEPS = 60000;

/**
 * Register tile of the partial pass: `channelGroups` x 4 output channels x `inputs` input
 * channels per invocation (the OG and IT overrides).
 */
export interface BackwardWeightTile {
  channelGroups: 1 | 2;
  inputs: number;
}

/**
 * The tile used for a layer: 8 output x up to 4 input channels (288 tap sums; per 4 pixels 8 dy
 * and 12 x vec4 loads feed 1152 FMAs). Layers with at most 4 outputs take one channel group.
 */
export function conv2dBackwardWeightTile(cin: number, cout: number): BackwardWeightTile {
  return { channelGroups: cout > 4 ? 2 : 1, inputs: Math.min(cin, 4) };
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
  const { channelGroups, inputs: it } = tile ?? conv2dBackwardWeightTile(cin, cout);
  if (it < 1 || it > 4 || !Number.isInteger(it)) {
    throw new RangeError(`conv2d_backward_weight: ${it} input channels per tile, expected 1-4`);
  }
  const ot = 4 * channelGroups;
  const tilesO = Math.ceil(cout / ot);
  const tilesI = Math.ceil(cin / it);
  const rows = batch * height;
  const target = gpu.isFallback ? TARGET_INVOCATIONS.software : TARGET_INVOCATIONS.gpu;
  const wanted = Math.ceil(target / (tilesO * tilesI));
  const maxRows = Math.max(1, Math.floor(MAX_STEPS / Math.ceil(width / 4)));
  const rowsPerChunk = Math.min(maxRows, Math.max(1, Math.ceil(rows / wanted)));
  const chunks = Math.ceil(rows / rowsPerChunk);
  const [coutPad, cinPad] = [tilesO * ot, tilesI * it];
  const cols = cin * 9 + 1;
  const colsPad = cinPad * 9 + 1;
  const part = Tensor.zeros(gpu, [chunks, coutPad, colsPad], `${dw.label}:partials`);
  const scratch = [part];
  // Aligned vec4 loads need whole vec4 rows; otherwise the vec4 bindings get a stand-in.
  const vec = width % 4 === 0 ? 1 : 0;
  let [x4, dy4] = [x, dy];
  if (!vec) {
    x4 = dy4 = Tensor.zeros(gpu, [4], `${dw.label}:unused-vec4`);
    scratch.push(x4);
  }
  const wg = Math.min(64, 2 ** Math.ceil(Math.log2(tilesO)));
  const partial = partialKernel.bind(
    gpu,
    [x, dy, x4, dy4, part],
    {
      batch,
      cin,
      cout,
      height,
      width,
      rows_per_chunk: rowsPerChunk,
      cout_pad: coutPad,
      cin_pad: cinPad,
    },
    [Math.ceil(tilesO / wg), tilesI, chunks],
    { OG: channelGroups, IT: it, VEC: vec, WG: wg },
  );
  const reduce = reduceKernel.bind(gpu, [part, dw, db], {
    cout,
    cols,
    chunks,
    cout_pad: coutPad,
    cols_pad: colsPad,
  }, [
    Math.ceil((cout * cols) / 64),
  ]);
  return boundOp([partial, reduce], scratch);
}
