/**
 * Seeded, disjoint validation / test identity splits, saved as JSON next to results so
 * an evaluation states exactly which identities it used.
 */
import { Rng } from "./random.ts";
import { naturalCompare } from "./layouts.ts";
import { writeFileAtomic } from "./safetensors.ts";

/** A validation / test split of identity names. */
export interface IdentitySplit {
  /** Format marker for the JSON file. */
  format: "face-identity-split/v1";
  /** Where the identities came from (e.g. the data directory); informational. */
  source: string;
  /** Seed of the shuffle. */
  seed: number;
  /** Validation identities (for early stopping), natural order. */
  validation: string[];
  /** Test identities, natural order; disjoint from `validation`. */
  test: string[];
}

/**
 * How many identities a part gets: an integer >= 0 is a count, a number strictly between
 * 0 and 1 a fraction of all identities (rounded to the nearest count).
 */
export type SplitSize = number;

/** Options for {@link splitIdentities}. */
export interface SplitOptions {
  /** Validation size (count or fraction). */
  validation: SplitSize;
  /** Test size (count or fraction); default: all remaining identities. */
  test?: SplitSize;
  /** Shuffle seed. */
  seed: number;
  /** Recorded in the split (default ""). */
  source?: string;
}

/** Resolves a count-or-fraction against `total`, naming `what` in errors. */
export function resolveSplitSize(size: SplitSize, total: number, what: string): number {
  if (Number.isInteger(size) && size >= 0) return size;
  if (size > 0 && size < 1) return Math.round(size * total);
  throw new RangeError(`${what} size ${size}: expected a count >= 0 or a fraction in (0, 1)`);
}

/**
 * Shuffles the identities (sorted first, so input order does not matter) with `seed`;
 * the first ones go to validation, the next ones to test.
 */
export function splitIdentities(
  identities: readonly string[],
  options: SplitOptions,
): IdentitySplit {
  const unique = [...new Set(identities)].sort(naturalCompare);
  if (unique.length !== identities.length) throw new RangeError("identity names repeat");
  const total = unique.length;
  const nVal = resolveSplitSize(options.validation, total, "validation");
  const nTest = options.test === undefined
    ? total - nVal
    : resolveSplitSize(options.test, total, "test");
  if (nVal + nTest > total || nTest < 0) {
    throw new RangeError(
      `split needs ${nVal} validation + ${Math.max(0, nTest)} test identities, ` +
        `only ${total} available`,
    );
  }
  const order = new Rng(options.seed).shuffle(unique);
  return {
    format: "face-identity-split/v1",
    source: options.source ?? "",
    seed: options.seed,
    validation: order.slice(0, nVal).sort(naturalCompare),
    test: order.slice(nVal, nVal + nTest).sort(naturalCompare),
  };
}

/** The split as pretty JSON text. */
export function splitToJson(split: IdentitySplit): string {
  return JSON.stringify(split, null, 2) + "\n";
}

/** Parses and checks a split JSON text (`path` labels errors). */
export function splitFromJson(text: string, path: string): IdentitySplit {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new SyntaxError(`${path}: not JSON (${(err as Error).message})`);
  }
  const s = raw as Partial<IdentitySplit>;
  const isNames = (v: unknown) => Array.isArray(v) && v.every((x) => typeof x === "string");
  if (
    s?.format !== "face-identity-split/v1" || typeof s.seed !== "number" ||
    !isNames(s.validation) || !isNames(s.test)
  ) {
    throw new SyntaxError(
      `${path}: not a face-identity-split/v1 file (needs format, seed, validation, test)`,
    );
  }
  const val = new Set(s.validation);
  const both = s.test!.filter((id) => val.has(id));
  if (both.length > 0) {
    throw new RangeError(`${path}: identities in both validation and test: ${both.join(", ")}`);
  }
  return {
    format: s.format,
    source: typeof s.source === "string" ? s.source : "",
    seed: s.seed,
    validation: [...s.validation!],
    test: [...s.test!],
  };
}

/** Writes the split atomically. */
export async function writeSplit(path: string, split: IdentitySplit): Promise<void> {
  await writeFileAtomic(path, splitToJson(split));
}

/** Reads and checks a split file. */
export async function readSplit(path: string): Promise<IdentitySplit> {
  return splitFromJson(await Deno.readTextFile(path), path);
}
