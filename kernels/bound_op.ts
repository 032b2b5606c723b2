/**
 * A bound operation: the dispatches one op records every step, plus the scratch tensors it
 * allocated at build time (freed by `destroy`). Shared by the ProtoNet kernels.
 */
import type { Dispatch } from "./kernel.ts";
import type { Tensor } from "./tensor.ts";

/** Dispatches of one op, recorded in order, and the scratch it owns. */
export interface BoundOp {
  readonly dispatches: readonly Dispatch[];
  /** Frees scratch tensors created by the op (not the tensors passed in). */
  destroy(): void;
}

/** Builds a `BoundOp` from dispatches and the scratch tensors to free. */
export function boundOp(dispatches: readonly Dispatch[], scratch: readonly Tensor[] = []): BoundOp {
  return { dispatches, destroy: () => scratch.forEach((t) => t.destroy()) };
}

/**
 * A 2-D workgroup grid covering `total` invocations of 1-D workgroups of `size`, with the
 * row stride (in invocations) the kernel uses to flatten `gid.x + gid.y * strideX`.
 */
export function flatGrid(
  total: number,
  size: number,
  maxPerDim = 65535,
): { grid: [number, number]; strideX: number } {
  const needed = Math.max(1, Math.ceil(total / size));
  const gx = Math.min(needed, maxPerDim);
  const gy = Math.ceil(needed / gx);
  return { grid: [gx, gy], strideX: gx * size };
}

/** Throws a RangeError naming `what`, its value and the expected value, when they differ. */
export function expectDim(what: string, value: number, expected: number): void {
  if (value !== expected) {
    throw new RangeError(`${what} is ${value}, expected ${expected}`);
  }
}
