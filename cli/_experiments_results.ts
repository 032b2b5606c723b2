/**
 * The numbers of an experiments run, gathered from its training runs and
 * baselines into tables (one per experiment) and paired comparisons. Pure
 * data in, pure data out: `results.json` is this object, and the report and
 * the plots are drawn from it alone.
 */
import { pairedTest } from "../protonet/paired_test.ts";
import type { CurvePoint, EpisodeKind } from "./_run_training.ts";
import type { ExperimentId, PlannedRun } from "./_experiments_config.ts";

export type { CurvePoint };

/** Test accuracy at one K_test. */
export interface ShotResult {
  shot: number;
  mean: number;
  ci95: number;
  episodes: number;
}

/** What one training run measured (or that it has not run yet). */
export interface RunRecord {
  name: string;
  label: string;
  episodes: EpisodeKind;
  sampler: string;
  kTrain: number;
  idLayers: [number, number];
  experiments: ExperimentId[];
  status: "done" | "pending" | "skipped";
  /** Why a run was skipped. */
  note?: string;
  episodesTrained?: number;
  bestEpisode?: number;
  bestValidation?: number;
  stoppedEarly?: boolean;
  /** Wall time of the session that finished the run (a resumed run counts its last part). */
  wallSeconds?: number;
  history?: { episode: number; mean: number; ci95: number }[];
  curves?: CurvePoint[];
  test?: ShotResult[];
}

/** A row of an experiment table: a run or a baseline, with its test results when known. */
export interface MethodRow {
  id: string;
  label: string;
  test?: ShotResult[];
}

/** One experiment: rows compared against the first row (the reference). */
export interface ExperimentTable {
  id: ExperimentId;
  title: string;
  /** Row ids compared with the reference: variant − reference. */
  reference: string;
  rows: MethodRow[];
}

/** A paired comparison on the same test episodes; `diff` = a − b in accuracy units. */
export interface Comparison {
  experiment: ExperimentId;
  a: string;
  b: string;
  shot: number;
  episodes: number;
  diff: number;
  ci95: number;
  p: number;
  withinNoise: boolean;
}

/** Everything `results.json` holds. */
export interface ExperimentResults {
  format: "facegen-experiments/v1";
  status: "complete" | "partial";
  preset: string;
  settings: Record<string, unknown>;
  adapter: string;
  softwareAdapter: boolean;
  data: {
    description: string;
    inputMode: string;
    identities: { train: number; validation: number; test: number };
    splitFile: string;
    warnings: number;
  };
  generator: { path: string; description: string; numWs: number; defaultLayers: number[] };
  evaluation: {
    way: number;
    query: number;
    shots: number[];
    episodes: number;
    seed: number;
    valShot: number;
    bn: string;
  };
  runs: RunRecord[];
  baselines: MethodRow[];
  experiments: ExperimentTable[];
  comparisons: Comparison[];
  /** The main run's validation curves and stopping point (paper Fig. 4). */
  validation?: {
    run: string;
    valShot: number;
    bestEpisode: number;
    lastEpisode: number;
    stoppedEarly: boolean;
    curves: CurvePoint[];
  };
  figures: { file: string; caption: string }[];
  /** Each invocation that worked on this directory: when it started and how long it ran. */
  sessions: { started: string; seconds: number }[];
  /** Wall time of all sessions together. */
  wallSeconds: number;
  /** Sum of the training runs' own wall times. */
  runSeconds: number;
}

/** Per-episode test accuracies by method id, then by K_test. */
export type PerEpisode = Map<string, Map<number, ArrayLike<number>>>;

/** Ids of the baselines in tables and comparisons. */
export const BASELINE_IDS = { random: "random-init", pixels: "pixels" } as const;

/** A run's table row. */
export function rowOf(run: RunRecord, label = run.label): MethodRow {
  return { id: run.name, label, test: run.test };
}

/**
 * The four experiment tables: K_test sweep (method and baselines), K_train
 * sweep, samplers, identity layers. The first row of each is its reference.
 */
export function experimentTables(
  plan: readonly PlannedRun[],
  runs: ReadonlyMap<string, RunRecord>,
  baselines: readonly MethodRow[],
  defaultLayers: readonly number[],
): ExperimentTable[] {
  const record = (p: PlannedRun) => runs.get(p.name)!;
  const main = plan[0];
  const inExp = (id: ExperimentId) => plan.filter((p) => p.experiments.includes(id));
  const supervised = plan.filter((p) => p.episodes === "supervised").map(record);
  const isDefault = (p: PlannedRun) =>
    p.idLayers[0] === defaultLayers[0] && p.idLayers[1] === defaultLayers[1];
  const kTrain = inExp("kTrain").sort((a, b) => a.kTrain - b.kTrain);
  const row = (p: PlannedRun, id: ExperimentId) => rowOf(record(p), p.labels[id] ?? p.label);
  const layers = inExp("layers").sort((a, b) => Number(!isDefault(a)) - Number(!isDefault(b)));
  return [
    {
      id: "kTest",
      title: "K_test sweep, K_train = 1",
      reference: main.name,
      rows: [
        rowOf(record(main), "style mixing (label-free, ours)"),
        ...supervised.map((r) => rowOf(r, "supervised ProtoNet (identity labels)")),
        ...baselines,
      ],
    },
    {
      id: "kTrain",
      title: "K_train sweep",
      reference: kTrain.find((p) => p.kTrain === 1)?.name ?? main.name,
      rows: kTrain.map((p) => row(p, "kTrain")),
    },
    {
      id: "samplers",
      title: "Task samplers, K_train = 1",
      reference: main.name,
      rows: inExp("samplers").map((p) => row(p, "samplers")),
    },
    {
      id: "layers",
      title: "Identity style inputs, K_train = 1",
      reference: layers.find(isDefault)?.name ?? main.name,
      rows: layers.map((p) => row(p, "layers")),
    },
    {
      id: "seeds",
      title: "The method retrained with other seeds",
      reference: main.name,
      rows: inExp("seeds").map((p) => row(p, "seeds")),
    },
  ];
}

/**
 * Paired tests of every row against its table's reference, at every K_test
 * both have. In the K_test sweep the method is `a` (positive = the method is
 * better); elsewhere the variant is `a` (positive = the variant is better).
 */
export function compareAll(tables: readonly ExperimentTable[], per: PerEpisode): Comparison[] {
  const out: Comparison[] = [];
  for (const t of tables) {
    for (const row of t.rows) {
      if (row.id === t.reference) continue;
      const [a, b] = t.id === "kTest" ? [t.reference, row.id] : [row.id, t.reference];
      const pa = per.get(a), pb = per.get(b);
      if (!pa || !pb) continue;
      for (const [shot, xa] of pa) {
        const xb = pb.get(shot);
        if (!xb || xb.length !== xa.length) continue;
        const test = pairedTest(xa, xb);
        out.push({
          experiment: t.id,
          a,
          b,
          shot,
          episodes: test.episodes,
          diff: test.mean,
          ci95: test.ci95,
          p: test.p,
          withinNoise: test.withinNoise,
        });
      }
    }
  }
  return out;
}

/**
 * How far retraining the method with another seed moved its test accuracy at one K_test:
 * the largest |difference| between a repeat and the first run; undefined without repeats.
 */
export function seedSpread(comparisons: readonly Comparison[], shot: number): number | undefined {
  const ds = comparisons.filter((c) => c.experiment === "seeds" && c.shot === shot)
    .map((c) => Math.abs(c.diff));
  return ds.length > 0 ? Math.max(...ds) : undefined;
}

/** A difference beyond evaluation noise and larger than the seed-to-seed spread. */
export function conclusive(c: Comparison, comparisons: readonly Comparison[]): boolean {
  const spread = seedSpread(comparisons, c.shot);
  return !c.withinNoise && (spread === undefined || Math.abs(c.diff) > spread);
}

/** The test result of a row at one K_test, if known. */
export function atShot(
  row: MethodRow | RunRecord | undefined,
  shot: number,
): ShotResult | undefined {
  return row?.test?.find((r) => r.shot === shot);
}
