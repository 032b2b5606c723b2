/**
 * Shared test helpers: closeness checks that report the largest difference,
 * golden-file access, and the GPU-availability gate.
 */
import assert from "node:assert";
import { acquireGpu, type Gpu, hasGpu } from "../kernels/device.ts";
import { type NamedTensor, readSafeTensors, type SafeTensors } from "../data/safetensors.ts";

export { assert };

/** True when a WebGPU adapter exists; GPU tests pass `ignore: !gpuAvailable`. */
export const gpuAvailable = await hasGpu();
if (!gpuAvailable) console.warn("no WebGPU adapter: GPU tests are skipped");

/** The shared GPU (call only inside tests that are not ignored). */
export function gpu(): Promise<Gpu> {
  return acquireGpu();
}

/** Largest |a - b| and largest |a - b| / (|b| + tiny) over two arrays. */
export function differences(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
): { maxAbs: number; maxRel: number; at: number } {
  assert.strictEqual(actual.length, expected.length, "length mismatch");
  let maxAbs = 0, maxRel = 0, at = -1;
  for (let i = 0; i < actual.length; i++) {
    const d = Math.abs(actual[i] - expected[i]);
    if (!(d <= maxAbs)) {
      maxAbs = Number.isNaN(d) ? Infinity : d;
      at = i;
    }
    maxRel = Math.max(maxRel, d / (Math.abs(expected[i]) + 1e-12));
  }
  return { maxAbs, maxRel, at };
}

/**
 * Asserts every element satisfies |a - e| <= atol + rtol * |e| and returns the
 * largest absolute difference, so tests can report it.
 */
export function assertClose(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  what: string,
  { atol = 0, rtol = 0 }: { atol?: number; rtol?: number },
): number {
  assert.strictEqual(actual.length, expected.length, `${what}: length mismatch`);
  let worst = -1, worstExcess = 0, maxAbs = 0;
  for (let i = 0; i < actual.length; i++) {
    const d = Math.abs(actual[i] - expected[i]);
    const excess = d - (atol + rtol * Math.abs(expected[i]));
    if (!(d <= maxAbs)) maxAbs = Number.isNaN(d) ? Infinity : d;
    if (!(excess <= worstExcess)) {
      worst = i;
      worstExcess = Number.isNaN(excess) ? Infinity : excess;
    }
  }
  if (worst >= 0) {
    throw new assert.AssertionError({
      message: `${what}: element ${worst} is ${actual[worst]}, expected ${expected[worst]} ` +
        `(atol ${atol}, rtol ${rtol}; largest |diff| ${maxAbs})`,
    });
  }
  return maxAbs;
}

const GOLDEN_DIR = new URL("./golden/", import.meta.url);

/** Reads a golden file copied into `tests/golden/`. */
export function readGolden(name: string): Promise<SafeTensors> {
  return readSafeTensors(new URL(name, GOLDEN_DIR).pathname);
}

/** A named tensor from a golden file, failing clearly when absent. */
export function goldenTensor(file: SafeTensors, name: string): NamedTensor {
  const t = file.tensors.get(name);
  if (!t) throw new Error(`${file.path}: golden tensor ${name} missing`);
  return t;
}

/** Path of `../shared` beside the repo, or undefined when absent (fresh clone). */
export function sharedDir(): string | undefined {
  const p = new URL("../../shared/", import.meta.url).pathname;
  try {
    return Deno.statSync(p).isDirectory ? p : undefined;
  } catch {
    return undefined;
  }
}
