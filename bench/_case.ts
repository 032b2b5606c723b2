/**
 * What one benchmark row is: a kernel at one shape, built on our device, checked against the
 * float64 TypeScript reference, and optionally paired with the tfjs-webgpu peer on the same
 * inputs (its output is compared with ours before it is timed).
 */
import type { Gpu } from "../kernels/device.ts";
import type { Dispatch } from "../kernels/kernel.ts";
import type { PeerOp, TfjsPeer } from "./peer_tfjs.ts";

/** Kernel names of the benchmark's JSON (`kernels[].name`). */
export type KernelName =
  | "matmul"
  | "conv_fwd"
  | "conv_bwd_data"
  | "conv_bwd_weight"
  | "modconv"
  | "modconv_up"
  | "mapping"
  | "batchnorm"
  | "maxpool"
  | "proto_loss";

/** Work of one run: floating-point operations (a multiply-add is 2), or bytes moved. */
export type Work = { flops: number } | { bytes: number };

/** A case built on the GPU, ready to check and time. */
export interface BuiltCase {
  /** Dispatches of one run of our op, in order. */
  readonly dispatches: readonly Dispatch[];
  /** Compares our output with the reference; returns e.g. "2 images, 3.1e-7", throws if off. */
  check(): Promise<string>;
  /** Our full output in the layout the peer's `check()` returns (NCHW, `[loss]`, ...). */
  output(): Promise<Float32Array>;
  /** The peer's op on the same inputs. */
  peer(peer: TfjsPeer): PeerOp;
  /** Frees every tensor the case made. */
  destroy(): void;
}

/** One row of the kernel table. */
export interface BenchCase {
  readonly name: KernelName;
  /** Shape as printed, e.g. "[30, 64, 32, 32] -> 64". */
  readonly shape: string;
  readonly work: Work;
  build(gpu: Gpu): BuiltCase | Promise<BuiltCase>;
}

/** Relative tolerance of the peer's output against ours (float32 sums in another order). */
export const PEER_TOLERANCE = 1e-3;

/** Largest |actual - expected| over the largest |expected| (NaN anywhere: Infinity). */
export function relativeError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  if (actual.length !== expected.length) return Infinity;
  let scale = 0, worst = 0;
  for (let i = 0; i < expected.length; i++) {
    scale = Math.max(scale, Math.abs(expected[i]));
    const d = Math.abs(actual[i] - expected[i]);
    worst = Number.isNaN(d) ? Infinity : Math.max(worst, d);
  }
  return worst / (scale || 1);
}

/** `relativeError`, throwing an error naming `what` past `tol`. */
export function relativeDiff(
  what: string,
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  tol: number,
): number {
  if (actual.length !== expected.length) {
    throw new RangeError(`${what}: ${actual.length} values, expected ${expected.length}`);
  }
  const rel = relativeError(actual, expected);
  if (!(rel <= tol)) throw new Error(`${what}: largest |diff| is ${rel} of the largest value`);
  return rel;
}

/** `[30, 64, 32, 32]`. */
export function dims(shape: readonly number[]): string {
  return `[${shape.join(", ")}]`;
}
