/**
 * Timing for the benchmark. A sample submits work and awaits `queue.onSubmittedWorkDone()`.
 * Deno wakes GPU waits on a poll of about 10 ms, so an op shorter than that is repeated `reps`
 * times per sample (recorded into one compute pass for our kernels) and the sample divided by
 * `reps`; `calibrateReps` picks `reps` so a sample lasts at least `MIN_SAMPLE_MS`.
 * Process CPU time is kept beside wall time: llvmpipe's threads run in this process, so CPU ms
 * moves less than wall ms when other jobs share the machine.
 */
import process from "node:process";
import type { Gpu } from "../kernels/device.ts";
import { type Dispatch, submit } from "../kernels/kernel.ts";

/** Runs an op `reps` times and resolves when the GPU has finished all of them. */
export type Repeated = (reps: number) => Promise<void>;

/** Median, smallest and largest of a list of numbers. */
export interface Summary {
  median: number;
  min: number;
  max: number;
}

/** Per-op wall ms and process CPU ms of every sample, with the repetitions per sample. */
export interface Timing {
  wallMs: Summary;
  cpuMs: Summary;
  reps: number;
  samples: number;
}

/** Shortest sample worth timing: ten of Deno's ~10 ms GPU-wait polls. */
export const MIN_SAMPLE_MS = 100;

/** Most repetitions per sample (tiny ops stay tiny even when repeated). */
const MAX_REPS = 512;

/** Median (mean of the middle two for an even count), min and max; `values` must be non-empty. */
export function summarize(values: readonly number[]): Summary {
  if (values.length === 0) throw new RangeError("summarize: no values");
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  const median = s.length % 2 === 1 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
  return { median, min: s[0], max: s[s.length - 1] };
}

/** A `Repeated` that records `dispatches` `reps` times into one compute pass and waits. */
export function dispatchRunner(gpu: Gpu, dispatches: readonly Dispatch[]): Repeated {
  const recorded = new Map<number, Dispatch[]>();
  return async (reps) => {
    let all = recorded.get(reps);
    if (!all) {
      all = Array.from({ length: reps }, () => dispatches).flat();
      recorded.set(reps, all);
    }
    submit(gpu, all, "bench");
    await gpu.device.queue.onSubmittedWorkDone();
  };
}

/** One sample: wall and process CPU ms per repetition. */
export async function sample(run: Repeated, reps: number): Promise<{ ms: number; cpuMs: number }> {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await run(reps);
  const ms = (performance.now() - t0) / reps;
  const cpu = process.cpuUsage(cpu0);
  return { ms, cpuMs: (cpu.user + cpu.system) / 1000 / reps };
}

/**
 * Warms `run` up (first use compiles pipelines and uploads inputs), then returns the
 * repetitions per sample that make a sample last at least `MIN_SAMPLE_MS`, refined over up to
 * three trial samples (the first ones are inflated by the wait poll).
 */
export async function calibrateReps(run: Repeated, maxReps = MAX_REPS): Promise<number> {
  await run(1);
  let reps = 1;
  for (let trial = 0; trial < 3; trial++) {
    const total = (await sample(run, reps)).ms * reps;
    if (total >= MIN_SAMPLE_MS || reps >= maxReps) break;
    reps = Math.min(maxReps, Math.ceil((reps * 1.2 * MIN_SAMPLE_MS) / Math.max(total, 0.5)));
  }
  return reps;
}

/**
 * Times several ops alike: after calibration, round r takes sample r of every op in turn, so
 * a burst of load from other jobs hits them all rather than one.
 * @param runs samples per op (after warm-up and calibration)
 */
export async function timeInterleaved(
  runs: readonly Repeated[],
  samples: number,
): Promise<Timing[]> {
  const reps: number[] = [];
  for (const run of runs) reps.push(await calibrateReps(run));
  const wall = runs.map((): number[] => []), cpu = runs.map((): number[] => []);
  for (let r = 0; r < samples; r++) {
    for (let k = 0; k < runs.length; k++) {
      const s = await sample(runs[k], reps[k]);
      wall[k].push(s.ms);
      cpu[k].push(s.cpuMs);
    }
  }
  return runs.map((_, k) => ({
    wallMs: summarize(wall[k]),
    cpuMs: summarize(cpu[k]),
    reps: reps[k],
    samples,
  }));
}

/**
 * Counts GPU buffers and bind groups created on `device` while `body` runs (instance methods
 * are wrapped for the duration and restored after). Zero means the work reused everything.
 */
export async function countAllocations(
  device: GPUDevice,
  body: () => Promise<void>,
): Promise<{ buffers: number; bindGroups: number }> {
  const counts = { buffers: 0, bindGroups: 0 };
  const createBuffer = device.createBuffer;
  const createBindGroup = device.createBindGroup;
  device.createBuffer = (descriptor) => {
    counts.buffers++;
    return createBuffer.call(device, descriptor);
  };
  device.createBindGroup = (descriptor) => {
    counts.bindGroups++;
    return createBindGroup.call(device, descriptor);
  };
  try {
    await body();
  } finally {
    device.createBuffer = createBuffer;
    device.createBindGroup = createBindGroup;
  }
  return counts;
}
