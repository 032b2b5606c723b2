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

  /**
   * Reads the moment buffers, by name: `adam.m.<param>` (first moment) and `adam.v.<param>`
   * (second moment) for every parameter. With `stepCount` this is the whole optimiser state.
   */
  async getState(): Promise<Map<string, Float32Array>> {
    const out = new Map<string, Float32Array>();
    for (const s of this.#slots) {
      out.set(`adam.m.${s.slot.name}`, await s.m.read());
      out.set(`adam.v.${s.slot.name}`, await s.v.read());
    }
    return out;
  }

  /**
   * Restores the state `getState` returned and the step count, so the next update equals the
   * one the saved optimiser would have made. Every moment must be present with its parameter's
   * size; unknown names throw.
   */
  setState(state: ReadonlyMap<string, Float32Array>, step: number): void {
    if (!Number.isInteger(step) || step < 0) {
      throw new RangeError(`Adam step is ${step}, expected an integer >= 0`);
    }
    const known = new Set<string>();
    for (const s of this.#slots) {
      for (const [kind, t] of [["m", s.m], ["v", s.v]] as const) {
        const name = `adam.${kind}.${s.slot.name}`;
        known.add(name);
        const data = state.get(name);
        if (!data) throw new RangeError(`Adam state is missing ${name}`);
        if (data.length !== t.size) {
          throw new RangeError(`Adam state ${name} has ${data.length} values, expected ${t.size}`);
        }
      }
    }
    for (const name of state.keys()) {
      if (!known.has(name)) throw new RangeError(`Adam has no state ${name}`);
    }
    for (const s of this.#slots) {
      s.m.write(state.get(`adam.m.${s.slot.name}`)!);
      s.v.write(state.get(`adam.v.${s.slot.name}`)!);
    }
    this.#step = step;
  }

  /** Frees the moment buffers. */
  destroy(): void {
    for (const s of this.#slots) {
      s.m.destroy();
      s.v.destroy();
    }
  }
}
