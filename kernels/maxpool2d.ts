/**
 * 2x2 stride-2 max-pool (floor mode) and its backward (gradient to the first maximum).
 */
import type { Gpu } from "./device.ts";
import { type Dispatch, Kernel } from "./kernel.ts";
import type { Tensor } from "./tensor.ts";
import { expectDim } from "./bound_op.ts";
import src from "./maxpool2d.wgsl" with { type: "text" };
import backwardSrc from "./maxpool2d_backward.wgsl" with { type: "text" };

const forwardKernel = new Kernel("maxpool2d", src);
const backwardKernel = new Kernel("maxpool2d_backward", backwardSrc);

function _dims(z: Tensor) {
  const [batch, channels, height, width] = z.shape;
  return { batch, channels, height, width, ph: Math.floor(height / 2), pw: Math.floor(width / 2) };
}

type Dims = ReturnType<typeof _dims>;

function _params(d: Dims) {
  return { height: d.height, width: d.width, ph: d.ph, pw: d.pw };
}

/** 1 when W % 4 == 0: the kernels take pairs of windows with vec4 loads. */
function _vec(d: Dims): number {
  return d.width % 4 === 0 ? 1 : 0;
}

/** One workgroup row per plane (b, c), 64 windows (or pairs of windows) per workgroup. */
function _grid(d: Dims): [number, number] {
  const perInvocation = _vec(d) ? 2 : 1;
  return [Math.ceil((d.ph * d.pw) / (64 * perInvocation)), d.batch * d.channels];
}

/**
 * out = maxpool2x2(z). `out` may have any shape with B*C*(H/2)*(W/2) elements (e.g. [B, D]
 * embeddings), since the pooled map is stored row-major either way.
 * @param z input [B, C, H, W]
 * @param out output [B, C, H/2, W/2] (or the same elements flattened)
 */
export function maxpool2d(gpu: Gpu, z: Tensor, out: Tensor): Dispatch {
  const d = _dims(z);
  const total = d.batch * d.channels * d.ph * d.pw;
  expectDim(`maxpool2d output ${out.label} element count`, out.size, total);
  return forwardKernel.bind(gpu, [z, out, z], _params(d), _grid(d), { VEC: _vec(d) });
}

/**
 * dz = dL/dz of out = maxpool2x2(z) given dout (dz overwritten everywhere).
 * @param z pool input [B, C, H, W]
 * @param dout [B, C, H/2, W/2] (or the same elements flattened)
 * @param dz [B, C, H, W]
 */
export function maxpool2dBackward(gpu: Gpu, z: Tensor, dout: Tensor, dz: Tensor): Dispatch {
  const d = _dims(z);
  expectDim(
    `maxpool2d_backward dout ${dout.label} element count`,
    dout.size,
    d.batch * d.channels * d.ph * d.pw,
  );
  dz.expectShape(z.shape, "maxpool2d_backward dz");
  return backwardKernel.bind(gpu, [z, dout, dz, z], _params(d), _grid(d), { VEC: _vec(d) });
}
