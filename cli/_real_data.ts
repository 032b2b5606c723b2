/**
 * Opens the real face data of a run: one directory split into disjoint
 * validation and test identities (and, for supervised baselines, training
 * identities), or separate directories; decides the network's input mode;
 * verifies every image before training starts.
 */
import { FaceDataset } from "../data/dataset.ts";
import { decodeImageFile } from "../data/decode.ts";
import { readLayout } from "../data/layouts.ts";
import type { ColorMode } from "../data/preprocess.ts";
import { type IdentitySplit, splitIdentities } from "../data/splits.ts";
import { UsageError } from "./_common.ts";

/** A validation / test split, plus the labelled training identities when asked for. */
export type RealSplit = IdentitySplit & {
  /** Training identities (supervised baselines only); disjoint from validation and test. */
  train?: string[];
};

/** What the run evaluates on. */
export interface RealData {
  val: FaceDataset;
  test: FaceDataset;
  /** Labelled training identities (only when the request asks for them). */
  train?: FaceDataset;
  inputMode: ColorMode;
  /** Why this mode was chosen, when it was not given explicitly. */
  modeNote: string;
  split: RealSplit;
  warnings: string[];
  describe(): string;
}

/** Inputs that decide which images and identities are used. */
export interface RealDataRequest {
  data?: string;
  val?: string;
  test?: string;
  /** A third set of identities, for training with labels (with --val and --test). */
  train?: string;
  valFraction: number;
  /**
   * With `data`: the share of identities held out for training with labels; the split is
   * then training / validation / test, all disjoint. Absent: validation / test only.
   */
  trainFraction?: number;
  input: "auto" | "rgb" | "gray";
  imageSize: number;
  way: number;
  query: number;
  /** Largest K the run will evaluate at. */
  maxShot: number;
  seed: number;
}

/** True when the first few images of a directory are all grayscale (R = G = B). */
export async function looksGray(paths: readonly string[]): Promise<boolean> {
  for (const path of paths.slice(0, 5)) {
    const img = await decodeImageFile(path);
    const p = img.pixels;
    for (let i = 0; i < p.length; i += 3) {
      if (p[i] !== p[i + 1] || p[i] !== p[i + 2]) return false;
    }
  }
  return true;
}

async function samplePaths(dir: string): Promise<string[]> {
  const layout = await readLayout(dir, "auto");
  return [...layout.identities.values()].slice(0, 5).map((paths) => paths[0]);
}

/** Resolves the input mode: explicit, or gray when the validation data is gray. */
export async function resolveInputMode(
  input: "auto" | "rgb" | "gray",
  dir: string,
): Promise<{ mode: ColorMode; note: string }> {
  if (input !== "auto") return { mode: input, note: "" };
  const gray = await looksGray(await samplePaths(dir));
  return gray
    ? { mode: "gray", note: "auto: the real data is grayscale, so generated faces are too" }
    : { mode: "rgb", note: "auto: the real data is in colour" };
}

/** Opens, verifies and splits the real data; throws UsageError naming the flag. */
export async function openRealData(req: RealDataRequest): Promise<RealData> {
  const minImages = req.maxShot + req.query;
  const valDir = req.data ?? req.val!;
  const { mode, note } = await resolveInputMode(req.input, valDir);
  const options = { size: req.imageSize, mode, minImages };
  const warnings: string[] = [];
  const open = async (dir: string, flag: string) => {
    const ds = await FaceDataset.open(dir, options);
    const report = await ds.verify();
    for (const s of report.skipped) warnings.push(`skipped ${s.path}: ${s.reason}`);
    if (ds.identities.length === 0) {
      throw new UsageError(
        `--${flag} ${dir}: no identity has the ${minImages} images that K=${req.maxShot} + ` +
          `Q=${req.query} need`,
      );
    }
    return ds;
  };
  let val: FaceDataset, test: FaceDataset, split: RealSplit;
  let train: FaceDataset | undefined;
  if (req.data && req.trainFraction !== undefined) {
    const all = await open(req.data, "data");
    split = splitThreeWays(all.identities, req.valFraction, req.trainFraction, req.seed, req.data);
    val = all.subset(split.validation);
    test = all.subset(split.test);
    train = all.subset(split.train!);
  } else if (req.data) {
    const all = await open(req.data, "data");
    split = splitIdentities(all.identities, {
      validation: req.valFraction,
      seed: req.seed,
      source: req.data,
    });
    val = all.subset(split.validation);
    test = all.subset(split.test);
  } else {
    val = await open(req.val!, "val");
    test = await open(req.test!, "test");
    const shared = val.identities.filter((id) => test.identities.includes(id));
    if (shared.length > 0 && (await Deno.realPath(req.val!)) === (await Deno.realPath(req.test!))) {
      throw new UsageError(`--val and --test are the same directory; use --data to split it`);
    }
    split = {
      format: "face-identity-split/v1",
      source: `${req.val} | ${req.test}`,
      seed: req.seed,
      validation: val.identities,
      test: test.identities,
    };
    if (req.train) {
      train = await open(req.train, "train");
      const evaluated = new Set([...val.identities, ...test.identities]);
      const shared = train.identities.filter((id) => evaluated.has(id));
      if (shared.length > 0) {
        throw new UsageError(
          `--train ${req.train} shares ${shared.length} identities with --val/--test ` +
            `(e.g. ${shared[0]}); training identities must be disjoint`,
        );
      }
      split = { ...split, source: `${req.train} | ${split.source}`, train: train.identities };
    }
  }
  const parts = [[val, "validation"], [test, "test"]] as [FaceDataset, string][];
  if (train) parts.push([train, "training"]);
  for (const [ds, flag] of parts) {
    if (ds.identities.length < req.way) {
      throw new UsageError(
        `the ${flag} set has ${ds.identities.length} identities with ≥ ${minImages} images; ` +
          `--way ${req.way} needs at least ${req.way}`,
      );
    }
  }
  const source = req.data ??
    `${req.train ? `${req.train} (train), ` : ""}${req.val} (val), ${req.test} (test)`;
  return {
    val,
    test,
    train,
    inputMode: mode,
    modeNote: note,
    split,
    warnings,
    describe: () =>
      `${source}: ${train ? `${train.identities.length} training + ` : ""}` +
      `${val.identities.length} validation + ${test.identities.length} test identities ` +
      `with ≥ ${minImages} images`,
  };
}

/**
 * Seeded training / validation / test split of identity names: validation and test are
 * drawn as in `splitIdentities` (validation first), training takes the rest.
 */
export function splitThreeWays(
  identities: readonly string[],
  valFraction: number,
  trainFraction: number,
  seed: number,
  source: string,
): RealSplit {
  const total = identities.length;
  const nVal = Math.round(valFraction * total);
  const nTrain = Math.round(trainFraction * total);
  if (nVal + nTrain >= total) {
    throw new UsageError(
      `--val-fraction ${valFraction} + --train-fraction ${trainFraction} leave no test ` +
        `identities out of ${total}`,
    );
  }
  const split = splitIdentities(identities, {
    validation: nVal,
    test: total - nVal - nTrain,
    seed,
    source,
  });
  const held = new Set([...split.validation, ...split.test]);
  return { ...split, train: [...identities].filter((id) => !held.has(id)) };
}
