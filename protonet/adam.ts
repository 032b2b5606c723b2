/**
 * Adam optimiser for GPU parameters: owns the first and second moment buffers and the step
 * count, and exposes the dispatches that update every parameter in place.
 */
import type { Gpu } from "../kernels/device.ts";
import type { Dispatch } from "../kernels/kernel.ts";
import { Tensor } from "../kernels/tensor.ts";
import { type AdamHyper, adamKernel, adamParams, adamUpdate } from "../kernels/adam.ts";
import { flatGrid } from "../kernels/bound_op.ts";

/** A parameter and its gradient (same element count). */
export interface ParamSlot {
  name: string;
  param: Tensor;
  grad: Tensor;
}

/** Adam hyper-parameters with PyTorch defaults (lr 1e-3, betas 0.9/0.999, eps 1e-8). */
export const ADAM_DEFAULTS: AdamHyper = { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8 };

/** Adam over a fixed list of parameters; moments start at zero, step count at 0. */
export class Adam {
  readonly hyper: AdamHyper;
  #step = 0;
  #slots: { slot: ParamSlot; m: Tensor; v: Tensor; dispatch: Dispatch }[];

  constructor(readonly gpu: Gpu, slots: readonly ParamSlot[], hyper: Partial<AdamHyper> = {}) {
    this.hyper = { ...ADAM_DEFAULTS, ...hyper };
    this.#slots = slots.map((slot) => {
      const m = Tensor.zeros(gpu, slot.param.shape, `adam.m:${slot.name}`);
      const v = Tensor.zeros(gpu, slot.param.shape, `adam.v:${slot.name}`);
      const dispatch = adamUpdate(gpu, slot.param, slot.grad, m, v, this.hyper);
      return { slot, m, v, dispatch };
    });
  }

  /** Number of updates taken so far. */
  get stepCount(): number {
    return this.#step;
  }

  /**
   * Advances the step count and writes it (with its bias corrections) into every dispatch's
   * params; returns the dispatches to record for this update.
   */
  nextStep(): readonly Dispatch[] {
    this.#step++;
    for (const s of this.#slots) {
      const n = s.slot.param.size;
      const params = adamParams(n, flatGrid(n, 64).strideX, this.#step, this.hyper);
      adamKernel.setParams(this.gpu, s.dispatch, params);
    }
    return this.#slots.map((s) => s.dispatch);
  }

  /** Frees the moment buffers. */
  destroy(): void {
    for (const s of this.#slots) {
      s.m.destroy();
      s.v.destroy();
    }
  }
}
