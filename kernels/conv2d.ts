/**
 * 3x3 convolution (padding 1, stride 1, bias) and its data gradient, both run by the one
 * register-tiled kernel in `conv2d.wgsl` (block helpers in `conv_tile.wgsl`) after a
 * weight-packing pass (`conv2d_pack.wgsl`).
 */
import type { Gpu } from "./device.ts";
import { type Dispatch, Kernel } from "./kernel.ts";
import { Tensor } from "./tensor.ts";
import { type BoundOp, boundOp, expectDim } from "./bound_op.ts";
import convSrc from "./conv2d.wgsl" with { type: "text" };
import blockSrc from "./conv_block.wgsl" with { type: "text" };
import tileSrc from "./conv_tile.wgsl" with { type: "text" };
import packSrc from "./conv2d_pack.wgsl" with { type: "text" };

const convKernel = new Kernel("conv2d", blockSrc + tileSrc + convSrc);
const packKernel = new Kernel("conv2d_pack", packSrc);
/** Workgroups per grid dimension, below WebGPU's 65535 limit. */
const MAX_GROUPS = 32768;

/**
 * An invocation's register tile: `rows` x `cols` blocks of 4 x 4 pixels for `channelGroups` x 4
 * output channels (the RB, CB, OG overrides of `conv_tile.wgsl`).
 */
export interface Conv2dTile {
  rows: 1 | 2;
  cols: 1 | 2;
  channelGroups: 1 | 2;
}

/**
 * The tile for a layer. On a CPU adapter (llvmpipe) 4 x 8 pixels x 8 channels: each input
 * channel then costs 6 row loads and 18 weight vec4s for 1152 FMAs, and the 256 accumulators
 * still fit the spill budget (8 x 8 x 8 is slower, as for modconv). On a GPU one 4 x 4 x 4 block
 * keeps the accumulators in registers and leaves many invocations.
 */
export function conv2dTile(gpu: Gpu, cout: number, width: number): Conv2dTile {
  if (!gpu.isFallback) return { rows: 1, cols: 1, channelGroups: 1 };
  return { rows: 1, cols: width > 4 ? 2 : 1, channelGroups: cout > 4 ? 2 : 1 };
}

/**
 * Records the packing of `w` ([A, C, 3, 3]) into `packed` for conv2d: `flip` false packs the
 * forward conv C -> A, `flip` true the transposed, flipped conv A -> C (the data gradient).
 */
function _pack(gpu: Gpu, w: Tensor, packed: Tensor, flip: boolean, op4: number): Dispatch {
  const [a, c] = w.shape;
  const total = packed.size;
  return packKernel.bind(gpu, [w, packed], { a, c, flip: flip ? 1 : 0, op4, total }, [
    Math.ceil(total / 64),
  ]);
}

/** Records the tiled conv of `x` with packed weights into `y` (shapes checked by callers). */
function _conv(gpu: Gpu, x: Tensor, packed: Tensor, bias: Tensor, y: Tensor): Dispatch {
  const [batch, cin, height, width] = x.shape;
  const cout = y.shape[1];
  const tile = conv2dTile(gpu, cout, width);
  const op4 = _groups(gpu, cout, width);
  const tilesX = Math.ceil(width / (4 * tile.cols));
  const tiles = Math.ceil(height / (4 * tile.rows)) * tilesX;
  const items = batch * tiles;
  let wg = 8; // a CPU SIMD row; small layers keep small workgroups so few lanes idle
  while (wg < 64 && wg < items) wg *= 2;
  const needed = Math.ceil(items / wg);
  const groupsY = Math.min(needed, MAX_GROUPS);
  return convKernel.bind(
    gpu,
    [x, x, packed, bias, y],
    {
      batch,
      cin,
      cout,
      height,
      width,
      op4,
      tiles_x: tilesX,
      tiles,
      groups_y: groupsY,
    },
    [op4 / tile.channelGroups, groupsY, Math.ceil(needed / groupsY)],
    {
      WG: wg,
      OG: tile.channelGroups,
      CB: tile.cols,
      RB: tile.rows,
      VEC: width % 4 === 0 ? 1 : 0,
    },
  );
}

/** vec4 output-channel groups of the packed weights: Cout / 4, padded to whole tiles. */
function _groups(gpu: Gpu, cout: number, width: number): number {
  const og = conv2dTile(gpu, cout, width).channelGroups;
  return Math.ceil(cout / (4 * og)) * og;
}

function _packedTensor(gpu: Gpu, cin: number, cout: number, width: number, label: string) {
  const op4 = _groups(gpu, cout, width);
  return { packed: Tensor.zeros(gpu, [cin, 9, op4 * 4], label), op4 };
}

/**
 * y = conv3x3(x, weight) + bias. Records a weight pack then the conv, so weight updates
 * between steps are picked up.
 * @param x input [B, Cin, H, W]
 * @param weight [Cout, Cin, 3, 3]
 * @param bias [Cout]
 * @param y output [B, Cout, H, W]
 */
export function conv2d(gpu: Gpu, x: Tensor, weight: Tensor, bias: Tensor, y: Tensor): BoundOp {
  const [batch, cin, height, width] = x.shape;
  const cout = weight.shape[0];
  weight.expectShape([cout, cin, 3, 3], "conv2d weight");
  bias.expectShape([cout], "conv2d bias");
  y.expectShape([batch, cout, height, width], "conv2d output");
  const { packed, op4 } = _packedTensor(gpu, cin, cout, width, `${y.label}:wpack`);
  const pack = _pack(gpu, weight, packed, false, op4);
  return boundOp([pack, _conv(gpu, x, packed, bias, y)], [packed]);
}

/**
 * dx = dL/dx of y = conv3x3(x, weight): a conv of dy with the transposed, flipped weights.
 * @param dy gradient of the output [B, Cout, H, W]
 * @param weight [Cout, Cin, 3, 3]
 * @param dx gradient of the input [B, Cin, H, W] (overwritten)
 */
export function conv2dBackwardData(gpu: Gpu, dy: Tensor, weight: Tensor, dx: Tensor): BoundOp {
  const [batch, cout, height, width] = dy.shape;
  const cin = dx.shape[1];
  expectDim("conv2d_backward_data weight dim 0 (Cout)", weight.shape[0], cout);
  weight.expectShape([cout, cin, 3, 3], "conv2d_backward_data weight");
  dx.expectShape([batch, cin, height, width], "conv2d_backward_data dx");
  const { packed, op4 } = _packedTensor(gpu, cout, cin, width, `${dx.label}:wpackT`);
  const zeroBias = Tensor.zeros(gpu, [cin], `${dx.label}:zero-bias`);
  const pack = _pack(gpu, weight, packed, true, op4);
  return boundOp([pack, _conv(gpu, dy, packed, zeroBias, dx)], [packed, zeroBias]);
}
