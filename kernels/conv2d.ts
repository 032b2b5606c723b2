/**
 * 3x3 convolution (padding 1, stride 1, bias) and its data gradient, both run by the one
 * register-tiled kernel in `conv2d.wgsl` after a weight-packing pass (`conv2d_pack.wgsl`).
 */
import type { Gpu } from "./device.ts";
import { type Dispatch, Kernel } from "./kernel.ts";
import { Tensor } from "./tensor.ts";
import { type BoundOp, boundOp, expectDim } from "./bound_op.ts";
import convSrc from "./conv2d.wgsl" with { type: "text" };
import packSrc from "./conv2d_pack.wgsl" with { type: "text" };

const convKernel = new Kernel("conv2d", convSrc);
const packKernel = new Kernel("conv2d_pack", packSrc);
const WG_MAX = 64;

/**
 * Register-tile sizes: pixels per row, vec4 channel groups and rows per invocation. Four rows
 * amortise each weight load over 4x more pixels (1.6x faster on llvmpipe at 32x32); small maps
 * keep one row so a GPU still gets enough invocations.
 */
export function conv2dTile(
  cout: number,
  width: number,
  height: number,
): { px: number; co4: number; ry: number } {
  const px = width >= 8 ? 8 : 4;
  const co4 = cout > 4 ? 2 : 1;
  return { px, co4, ry: height >= 16 ? 4 : 1 };
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
  const { px, co4, ry } = conv2dTile(cout, width, height);
  const groupsO = Math.ceil(cout / (4 * co4));
  const op4 = groupsO * co4;
  const tilesX = Math.ceil(width / px);
  const tilesY = Math.ceil(height / ry);
  const rows = tilesY * tilesX;
  const wg = Math.min(WG_MAX, 2 ** Math.ceil(Math.log2(rows)));
  return convKernel.bind(
    gpu,
    [x, packed, bias, y],
    {
      batch,
      cin,
      cout,
      height,
      width,
      tiles_x: tilesX,
      tiles_y: tilesY,
      op4,
    },
    [Math.ceil(rows / wg), groupsO, batch],
    { PX: px, CO4: co4, RY: ry, WG: wg },
  );
}

function _packedTensor(gpu: Gpu, cin: number, cout: number, width: number, label: string) {
  const { co4 } = conv2dTile(cout, width, 1);
  const op4 = Math.ceil(cout / (4 * co4)) * co4;
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
