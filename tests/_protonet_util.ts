/**
 * Small helpers shared by the ProtoNet tests: upload, run and read back, random arrays, and
 * float64 central finite differences of a scalar function.
 */
import type { Gpu } from "../kernels/device.ts";
import { type Dispatch, submit } from "../kernels/kernel.ts";
import { Tensor } from "../kernels/tensor.ts";
import type { Rng } from "../data/random.ts";

/** Uploads `data` as a tensor of `shape`. */
export function upload(gpu: Gpu, data: ArrayLike<number>, shape: number[], label: string): Tensor {
  return Tensor.from(gpu, Float32Array.from(data), shape, label);
}

/** Submits the dispatches and reads back each tensor. */
export async function runAndRead(
  gpu: Gpu,
  dispatches: readonly Dispatch[],
  outputs: readonly Tensor[],
): Promise<Float32Array[]> {
  submit(gpu, dispatches, "test");
  const out = [];
  for (const t of outputs) out.push(await t.read());
  return out;
}

/** Normal random values rounded to float32, so CPU and GPU see the same inputs. */
export function randn(rng: Rng, n: number, scale = 1): Float64Array {
  return Float64Array.from(rng.normals(n), (v) => Math.fround(v * scale));
}

/** Central finite differences of a scalar function of `x` (float64), at every element. */
export function finiteDifferences(
  f: (x: Float64Array) => number,
  x: Float64Array,
  h = 1e-6,
): Float64Array {
  const g = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const keep = x[i];
    x[i] = keep + h;
    const up = f(x);
    x[i] = keep - h;
    const down = f(x);
    x[i] = keep;
    g[i] = (up - down) / (2 * h);
  }
  return g;
}

/** sum_i r_i a_i: a random linear read-out that turns an array output into a scalar loss. */
export function dot(r: ArrayLike<number>, a: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += r[i] * a[i];
  return s;
}
