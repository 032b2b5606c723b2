/**
 * Helpers shared by the command-line entry points: flag parsing with errors
 * that name the flag, a one-line error exit, and a run-directory logger that
 * prints and appends the same numbers to `metrics.jsonl`.
 */
import { writeFileAtomic } from "../data/safetensors.ts";

/** A user error: printed as one line, exit code 2, no stack trace. */
export class UsageError extends Error {
  override name = "UsageError";
}

/** Parses an integer flag within [min, max]. */
export function intFlag(name: string, value: string | undefined, min = 1, max = 1e9): number {
  const v = Number(value);
  if (value === undefined || !Number.isInteger(v) || v < min || v > max) {
    throw new UsageError(`--${name} must be an integer in ${min}..${max}, got "${value}"`);
  }
  return v;
}

/** Parses a finite number flag within [min, max]. */
export function numberFlag(
  name: string,
  value: string | undefined,
  min = -Infinity,
  max = Infinity,
): number {
  const v = Number(value);
  if (value === undefined || value.trim() === "" || !Number.isFinite(v) || v < min || v > max) {
    throw new UsageError(`--${name} must be a number in ${min}..${max}, got "${value}"`);
  }
  return v;
}

/** Parses a comma-separated list of positive integers, e.g. `--shot 1,5`. */
export function intListFlag(name: string, value: string | undefined): number[] {
  const parts = (value ?? "").split(",").map((s) => s.trim()).filter((s) => s);
  if (parts.length === 0) throw new UsageError(`--${name} needs a list like 1,5`);
  return parts.map((p) => intFlag(name, p));
}

/** Parses `a-b` (inclusive) or `a:b` (half-open) into a half-open range [a, b). */
export function rangeFlag(name: string, value: string | undefined): [number, number] {
  const m = (value ?? "").match(/^(\d+)\s*([-:])\s*(\d+)$/);
  if (!m) throw new UsageError(`--${name} must look like 3-6 (inclusive) or 3:7, got "${value}"`);
  const a = Number(m[1]);
  const b = m[2] === "-" ? Number(m[3]) + 1 : Number(m[3]);
  if (b <= a) throw new UsageError(`--${name} ${value} is an empty range`);
  return [a, b];
}

/** Checks a choice flag against its allowed values. */
export function choiceFlag<T extends string>(
  name: string,
  value: string,
  allowed: readonly T[],
): T {
  if (!(allowed as readonly string[]).includes(value)) {
    throw new UsageError(`--${name} must be one of ${allowed.join(", ")}, got "${value}"`);
  }
  return value as T;
}

/** Throws a UsageError when a path does not exist (naming the flag). */
export async function requirePath(flag: string, path: string, kind: "file" | "dir"): Promise<void> {
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(path);
  } catch {
    throw new UsageError(`--${flag}: ${path} does not exist`);
  }
  if (kind === "dir" && !info.isDirectory) {
    throw new UsageError(`--${flag}: ${path} is not a directory`);
  }
  if (kind === "file" && !info.isFile) throw new UsageError(`--${flag}: ${path} is not a file`);
}

/**
 * Runs a CLI main function: user errors and bad input become one line on
 * stderr and exit code 2; anything else keeps its stack trace (exit 1).
 */
export async function runMain(main: () => Promise<void>): Promise<void> {
  try {
    await main();
  } catch (e) {
    const err = e as Error;
    const userError = [
      "UsageError",
      "WeightFileError",
      "ImageDecodeError",
      "DatasetError",
      "SamplingError",
      "NoGpuError",
      "CheckpointError",
      "LayoutError",
      "RangeError",
    ].includes(err.name);
    if (userError) {
      console.error(`error: ${err.message}`);
      Deno.exit(2);
    }
    throw e;
  }
}

/** Prints to the console and appends JSON records to the run's `metrics.jsonl`. */
export class RunLog {
  readonly #metricsPath: string;

  constructor(readonly dir: string) {
    this.#metricsPath = `${dir}/metrics.jsonl`;
  }

  /** A human line on stdout. */
  say(line: string): void {
    console.log(line);
  }

  /** A record in metrics.jsonl (also what plots are drawn from). */
  async record(kind: string, fields: Record<string, unknown>): Promise<void> {
    const line = JSON.stringify({ kind, time: new Date().toISOString(), ...fields }) + "\n";
    await Deno.writeTextFile(this.#metricsPath, line, { append: true });
  }

  /** Writes a JSON file into the run directory atomically. */
  async writeJson(name: string, value: unknown): Promise<string> {
    const path = `${this.dir}/${name}`;
    await writeFileAtomic(path, JSON.stringify(value, null, 2) + "\n");
    return path;
  }
}

/** Formats an accuracy and its CI as "54.3 ± 0.9 %". */
export function pct(mean: number, ci95: number): string {
  return `${(100 * mean).toFixed(1)} ± ${(100 * ci95).toFixed(1)} %`;
}

/** A timestamped default run directory under runs/. */
export function defaultRunDir(prefix: string): string {
  const t = new Date().toISOString().replace(/[-:]/g, "").replace(/\..*/, "").replace("T", "-");
  return `runs/${prefix}-${t}`;
}
