/**
 * Adam kernel binding: one dispatch updates one parameter tensor in place from its gradient and
 * moment buffers. `protonet/adam.ts` owns the moments and the step count.
 */
import type { Gpu } from "./device.ts";
import { type Dispatch, Kernel } from "./kernel.ts";
import type { Tensor } from "./tensor.ts";
import { flatGrid } from "./bound_op.ts";
import src from "./adam.wgsl" with { type: "text" };

/** The Adam kernel (exported so callers can `setParams` its dispatches). */
export const adamKernel: Kernel = new Kernel("adam", src);

/** Adam hyper-parameters (PyTorch defaults except lr, which the caller chooses). */
export interface AdamHyper {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
}

/** Params of the Adam kernel for step `step` (1-based), bias corrections in float64. */
export function adamParams(n: number, strideX: number, step: number, h: AdamHyper) {
  return {
    n,
    stride_x: strideX,
    step,
    lr: h.lr,
    beta1: h.beta1,
    beta2: h.beta2,
    eps: h.eps,
    bc1: 1 - h.beta1 ** step,
    bc2: 1 - h.beta2 ** step,
  };
}

/**
 * Binds one Adam update for step 1; call `adamKernel.setParams(gpu, d, adamParams(...))` to
 * advance the step.
 * @param param [n] updated in place; grad [n]; m [n], v [n] moments updated in place
 */
export function adamUpdate(
  gpu: Gpu,
  param: Tensor,
  grad: Tensor,
  m: Tensor,
  v: Tensor,
  h: AdamHyper,
): Dispatch {
  for (const [t, what] of [[grad, "grad"], [m, "m"], [v, "v"]] as const) {
    if (t.size !== param.size) {
      throw new RangeError(
        `adam ${what} ${t.label} has ${t.size} elements, expected ${param.size}`,
      );
    }
  }
  const { grid, strideX } = flatGrid(param.size, 64);
  return adamKernel.bind(gpu, [param, grad, m, v], adamParams(param.size, strideX, 1, h), grid);
}
