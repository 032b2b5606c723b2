/**
 * Flags and presets of `deno task experiments`, and the plan of training
 * runs they expand to. Each run is named by what it varies
 * (`mix-k1-L3-6`, `supervised-k1`), so a run needed by two experiments is
 * trained once.
 */
import type { SamplerKind } from "../gan/sampler.ts";
import type { EpisodeKind } from "./_run_training.ts";
import type { TrainConfig } from "./_train_config.ts";
import { EMBEDDED } from "./_train_config.ts";
import {
  choiceFlag,
  defaultRunDir,
  intFlag,
  intListFlag,
  numberFlag,
  rangeFlag,
  requirePath,
  UsageError,
} from "./_common.ts";

/** Settings that differ between the CPU preset and the GPU preset. */
export interface PresetSizes {
  imageSize: number;
  episodes: number;
  valEvery: number;
  valEpisodes: number;
  patience: number;
  testEpisodes: number;
  poolGroups: number;
  poolMembers: number;
  poolRefresh: number;
  calibrationSamples: number;
  logEvery: number;
  /** Trainings of the method with different seeds (1 = no repeat), to measure seed spread. */
  repeats: number;
}

/** `--quick` fits a 2-core CPU in under 45 minutes; the full preset is sized for a GPU. */
export const PRESETS: Record<"quick" | "full", PresetSizes> = {
  quick: {
    imageSize: 32,
    episodes: 300,
    valEvery: 50,
    valEpisodes: 1000,
    patience: 3,
    testEpisodes: 1000,
    poolGroups: 8,
    poolMembers: 10,
    poolRefresh: 25,
    calibrationSamples: 2000,
    logEvery: 25,
    repeats: 2,
  },
  full: {
    imageSize: 64,
    episodes: 3000,
    valEvery: 100,
    valEpisodes: 1000,
    patience: 5,
    testEpisodes: 2000,
    poolGroups: 1,
    poolMembers: 6,
    poolRefresh: 1,
    calibrationSamples: 5000,
    logEvery: 50,
    repeats: 3,
  },
};

/** Resolved configuration of an experiments run. */
export interface ExperimentConfig extends PresetSizes {
  preset: "quick" | "full";
  generator: string;
  data?: string;
  train?: string;
  val?: string;
  test?: string;
  trainFraction: number;
  valFraction: number;
  input: "auto" | "rgb" | "gray";
  way: number;
  query: number;
  kTest: number[];
  kTrain: number[];
  samplers: SamplerKind[];
  /** Identity-layer choices as half-open ranges; absent: coarse, middle, fine for the generator. */
  layerSets?: [number, number][];
  supervised: boolean;
  valShot: number;
  lr: number;
  epsAnchor: number;
  epsNear: number;
  sigma: number;
  psi: number;
  noise: "random" | "const" | "none";
  seed: number;
  out: string;
}

/** `parseArgs` option table (preset-sized flags have no default here). */
export const EXPERIMENT_OPTIONS = {
  help: { type: "boolean", short: "h" },
  quick: { type: "boolean", default: false },
  generator: { type: "string", default: EMBEDDED.generator },
  data: { type: "string" },
  train: { type: "string" },
  val: { type: "string" },
  test: { type: "string" },
  "train-fraction": { type: "string", default: "0.35" },
  "val-fraction": { type: "string", default: "0.2" },
  input: { type: "string", default: "auto" },
  way: { type: "string", default: "5" },
  query: { type: "string", default: "5" },
  "k-test": { type: "string", default: "1,2,4,5" },
  "k-train": { type: "string", default: "1,2,5" },
  samplers: { type: "string", default: "mix,nomix,zspace,random" },
  "layer-sets": { type: "string" },
  "no-supervised": { type: "boolean", default: false },
  "val-shot": { type: "string", default: "5" },
  lr: { type: "string", default: "0.001" },
  "image-size": { type: "string" },
  episodes: { type: "string" },
  "val-every": { type: "string" },
  "val-episodes": { type: "string" },
  patience: { type: "string" },
  "test-episodes": { type: "string" },
  "pool-groups": { type: "string" },
  "pool-members": { type: "string" },
  "pool-refresh": { type: "string" },
  "calibration-samples": { type: "string" },
  "log-every": { type: "string" },
  repeats: { type: "string" },
  "eps-anchor": { type: "string", default: "1.0" },
  "eps-near": { type: "string", default: "0.5" },
  sigma: { type: "string", default: "0.5" },
  psi: { type: "string", default: "1.0" },
  noise: { type: "string", default: "random" },
  seed: { type: "string", default: "0" },
  out: { type: "string" },
} as const;

const SIZE_FLAGS: [keyof PresetSizes, string, string][] = [
  ["imageSize", "--image-size S", "classifier input side"],
  ["episodes", "--episodes N", "per run (upper bound)"],
  ["valEvery", "--val-every N", ""],
  ["valEpisodes", "--val-episodes E", "per validation and K"],
  ["patience", "--patience P", "early stopping"],
  ["testEpisodes", "--test-episodes E", "per K_test"],
  ["poolGroups", "--pool-groups G", ""],
  ["poolMembers", "--pool-members M", "raised to K_train + Q"],
  ["poolRefresh", "--pool-refresh R", ""],
  ["calibrationSamples", "--calibration-samples N", ""],
  ["logEvery", "--log-every N", ""],
  ["repeats", "--repeats N", "method runs, new seeds"],
];

/** The preset-sized flags with both presets' values, for the usage text. */
function sizesTable(): string {
  const row = (a: string, b: string, c: string, d: string) =>
    `  ${a.padEnd(25)}${b.padEnd(24)}${c.padEnd(10)}${d}`;
  return [
    `Sizes${" ".repeat(46)}--quick   full`,
    ...SIZE_FLAGS.map(([k, flag, what]) =>
      row(flag, what, String(PRESETS.quick[k]), String(PRESETS.full[k]))
    ),
  ].join("\n");
}

/** Usage text with both presets' sizes. */
export const EXPERIMENT_USAGE = `deno task experiments [--quick] [flags]

Reproduces the paper's experiments on one generator and one real face set and
writes OUT/report.md, OUT/results.json and the figures. Every method is tested
on the same seeded episodes (paired comparison). Rerunning with the same flags
and --out reuses finished runs and resumes an interrupted one.

Experiments (5-way, Q = 5; each list is a flag):
  --k-test LIST          test K; K_test sweep with K_train = 1            [1,2,4,5]
  --k-train LIST         K_train sweep, tested at every K_test            [1,2,5]
  --samplers LIST        mix (the method), nomix, zspace, random          [all four]
  --layer-sets LIST      identity-input choices, e.g. 0-3,3-6,6-9  [coarse, middle, fine]
  --no-supervised        skip the supervised ProtoNet baseline
Data:
  --generator FILE       StyleGAN2 safetensors            [models/stylegan2-celeba-64.safetensors]
  --data DIR             CelebA layout or one folder per identity      [embedded LFW set]
                         split into training / validation / test identities
  --train-fraction F --val-fraction F   shares of --data identities   [0.35, 0.2]
  --train DIR --val DIR --test DIR      separate sets instead (--train optional)
  --input auto|rgb|gray                                                [auto]
${sizesTable()}
Other:
  --way N --query Q --val-shot K --lr LR                               [5, 5, 5, 0.001]
  --eps-anchor E --eps-near E --sigma S --psi P --noise MODE   [1.0, 0.5, 0.5, 1.0, random]
  --seed S               one seed for every run: same init, same episodes  [0]
  --out DIR              output directory                    [runs/experiments-<time>]
`;

type Values = { [K in keyof typeof EXPERIMENT_OPTIONS]?: string | boolean };

/** Validates flags and resolves the preset; throws UsageError naming the flag. */
export async function parseExperimentFlags(v: Values): Promise<ExperimentConfig> {
  const s = (k: keyof typeof EXPERIMENT_OPTIONS) => v[k] as string | undefined;
  const preset = v.quick ? "quick" : "full";
  const p = PRESETS[preset];
  const sized = (k: keyof typeof EXPERIMENT_OPTIONS, fallback: number, min = 1, max = 1e9) =>
    intFlag(k, s(k) ?? String(fallback), min, max);
  const samplers = (s("samplers") ?? "").split(",").map((x) => x.trim()).filter((x) => x);
  const config: ExperimentConfig = {
    preset,
    generator: s("generator")!,
    data: s("data"),
    train: s("train"),
    val: s("val"),
    test: s("test"),
    trainFraction: numberFlag("train-fraction", s("train-fraction"), 0.05, 0.9),
    valFraction: numberFlag("val-fraction", s("val-fraction"), 0.05, 0.9),
    input: choiceFlag("input", s("input")!, ["auto", "rgb", "gray"] as const),
    way: intFlag("way", s("way"), 2, 100),
    query: intFlag("query", s("query"), 1, 100),
    kTest: unique(intListFlag("k-test", s("k-test"))),
    kTrain: unique(intListFlag("k-train", s("k-train"))),
    samplers: unique(
      samplers.map((x) => choiceFlag("samplers", x, ["mix", "nomix", "zspace", "random"] as const)),
    ),
    layerSets: s("layer-sets") ? layerSetsFlag(s("layer-sets")!) : undefined,
    supervised: !v["no-supervised"],
    valShot: intFlag("val-shot", s("val-shot"), 1, 100),
    lr: numberFlag("lr", s("lr"), 1e-7, 1),
    imageSize: sized("image-size", p.imageSize, 16, 1024),
    episodes: sized("episodes", p.episodes),
    valEvery: sized("val-every", p.valEvery),
    valEpisodes: sized("val-episodes", p.valEpisodes, 1, 100000),
    patience: sized("patience", p.patience, 0),
    testEpisodes: sized("test-episodes", p.testEpisodes, 1, 1000000),
    poolGroups: sized("pool-groups", p.poolGroups, 1, 10000),
    poolMembers: sized("pool-members", p.poolMembers, 1, 1000),
    poolRefresh: sized("pool-refresh", p.poolRefresh, 0),
    calibrationSamples: sized("calibration-samples", p.calibrationSamples, 10, 1e6),
    logEvery: sized("log-every", p.logEvery),
    repeats: sized("repeats", p.repeats, 1, 100),
    epsAnchor: numberFlag("eps-anchor", s("eps-anchor"), 0, 10),
    epsNear: numberFlag("eps-near", s("eps-near"), 1e-6, 10),
    sigma: numberFlag("sigma", s("sigma"), 1e-6, 10),
    psi: numberFlag("psi", s("psi"), 0, 2),
    noise: choiceFlag("noise", s("noise")!, ["random", "const", "none"] as const),
    seed: intFlag("seed", s("seed"), 0, 2 ** 31),
    out: s("out") ?? defaultRunDir("experiments"),
  };
  if (samplers.length === 0) throw new UsageError("--samplers needs at least one of mix,...");
  if (!config.samplers.includes("mix")) {
    throw new UsageError(
      "--samplers must include mix: it is the method the others are compared to",
    );
  }
  if (config.trainFraction + config.valFraction >= 0.95) {
    throw new UsageError(
      `--train-fraction ${config.trainFraction} + --val-fraction ${config.valFraction} ` +
        `leave too few test identities`,
    );
  }
  if ((config.val === undefined) !== (config.test === undefined)) {
    throw new UsageError("--val and --test go together (or use --data for one set split in three)");
  }
  if (config.data && (config.val || config.train)) {
    throw new UsageError("use --data, or --val and --test (with an optional --train), not both");
  }
  if (config.train && !config.val) throw new UsageError("--train needs --val and --test");
  if (!config.data && !config.val) config.data = EMBEDDED.data;
  await requirePath("generator", config.generator, "file");
  for (const flag of ["data", "train", "val", "test"] as const) {
    const path = config[flag];
    if (path) await requirePath(flag, path, "dir");
  }
  return config;
}

function unique<T>(xs: T[]): T[] {
  return [...new Set(xs)];
}

/** Parses `0-3,3-6,6-9` (inclusive ranges) into half-open ranges. */
export function layerSetsFlag(value: string): [number, number][] {
  const parts = value.split(",").map((x) => x.trim()).filter((x) => x);
  if (parts.length === 0) throw new UsageError("--layer-sets needs a list like 0-3,3-6,6-9");
  return parts.map((x) => rangeFlag("layer-sets", x));
}

/** Resolution in pixels fed by style input `i` (method.md: 4·2^floor(i/2)). */
export function inputResolution(i: number): number {
  return 4 * 2 ** Math.floor(i / 2);
}

/** An identity-layer choice with a readable name. */
export interface LayerSet {
  layers: [number, number];
  label: string;
}

/**
 * The identity-layer choices to compare: the given ones, or a coarse-heavy, the
 * generator's default (middle) and a fine-heavy band of the same width.
 */
export function layerSetsFor(
  config: ExperimentConfig,
  numWs: number,
  defaultLayers: [number, number],
): LayerSet[] {
  const describe = ([a, b]: [number, number]) =>
    `inputs ${a}-${b - 1}, ${inputResolution(a)}-${inputResolution(b - 1)} px`;
  for (const [a, b] of config.layerSets ?? []) {
    if (b > numWs) {
      throw new UsageError(
        `--layer-sets ${a}-${b - 1} exceeds this generator's ${numWs} style inputs (0-${
          numWs - 1
        })`,
      );
    }
  }
  if (config.layerSets) {
    return config.layerSets.map((l) => ({ layers: l, label: describe(l) }));
  }
  const width = defaultLayers[1] - defaultLayers[0];
  const sets: LayerSet[] = [
    { layers: [0, width], label: `coarse-heavy (${describe([0, width])})` },
    { layers: defaultLayers, label: `middle (default; ${describe(defaultLayers)})` },
    { layers: [numWs - width, numWs], label: `fine-heavy (${describe([numWs - width, numWs])})` },
  ];
  return sets.filter((s, i) =>
    sets.findIndex((t) => t.layers[0] === s.layers[0] && t.layers[1] === s.layers[1]) === i
  );
}

/** Which experiments a run's test results feed. */
export type ExperimentId = "kTest" | "kTrain" | "samplers" | "layers" | "seeds";

/** One training run of the plan. */
export interface PlannedRun {
  /** Directory name under OUT/runs/. */
  name: string;
  /** Readable name for tables. */
  label: string;
  /** Name within each experiment's table, where it differs from `label`. */
  labels: Partial<Record<ExperimentId, string>>;
  episodes: EpisodeKind;
  sampler: SamplerKind;
  kTrain: number;
  idLayers: [number, number];
  /** Training seed (network init, synthesis, episode stream); evaluation keeps `--seed`. */
  seed: number;
  experiments: ExperimentId[];
}

const SAMPLER_LABELS: Record<SamplerKind, string> = {
  mix: "style mixing (the method)",
  nomix: "no mixing",
  zspace: "z-space rejection (LASIUM-style)",
  random: "random classes",
};

/** A sampler's readable name. */
export function samplerLabel(kind: SamplerKind): string {
  return SAMPLER_LABELS[kind];
}

/**
 * The training runs, most informative first: the method (K_train = 1, default
 * identity inputs), the supervised baseline, the method again with other
 * training seeds (its seed-to-seed spread), the other samplers, the other
 * K_train, the other identity inputs.
 */
export function planRuns(
  config: ExperimentConfig,
  layerSets: LayerSet[],
  defaultLayers: [number, number],
): PlannedRun[] {
  const runs = new Map<string, PlannedRun>();
  const add = (
    episodes: EpisodeKind,
    sampler: SamplerKind,
    kTrain: number,
    idLayers: [number, number],
    experiment: ExperimentId | undefined,
    label: string,
    tableLabel = label,
    seed = config.seed,
  ) => {
    const base = episodes === "supervised"
      ? `supervised-k${kTrain}`
      : `${sampler}-k${kTrain}-L${idLayers[0]}-${idLayers[1] - 1}`;
    const name = seed === config.seed ? base : `${base}-s${seed}`;
    const run = runs.get(name) ??
      { name, label, labels: {}, episodes, sampler, kTrain, idLayers, seed, experiments: [] };
    if (experiment && !run.experiments.includes(experiment)) {
      run.experiments.push(experiment);
      run.labels[experiment] = tableLabel;
    }
    runs.set(name, run);
  };
  add("synthetic", "mix", 1, defaultLayers, "kTest", samplerLabel("mix"));
  if (config.supervised) add("supervised", "mix", 1, defaultLayers, "kTest", "supervised ProtoNet");
  add("synthetic", "mix", 1, defaultLayers, "seeds", samplerLabel("mix"), `seed ${config.seed}`);
  for (let i = 1; i < config.repeats; i++) {
    const seed = config.seed + 1000 * i;
    const label = `style mixing, training seed ${seed}`;
    add("synthetic", "mix", 1, defaultLayers, "seeds", label, `seed ${seed}`, seed);
  }
  for (const sampler of config.samplers) {
    add("synthetic", sampler, 1, defaultLayers, "samplers", samplerLabel(sampler));
  }
  for (const k of [1, ...config.kTrain.filter((k) => k !== 1)]) {
    add(
      "synthetic",
      "mix",
      k,
      defaultLayers,
      "kTrain",
      `style mixing, K_train = ${k}`,
      `K_train = ${k}`,
    );
  }
  for (const set of layerSets) {
    add("synthetic", "mix", 1, set.layers, "layers", `identity inputs: ${set.label}`, set.label);
  }
  return [...runs.values()];
}

/** The `deno task train` configuration of one planned run. */
export function trainConfigFor(x: ExperimentConfig, run: PlannedRun): TrainConfig {
  return {
    generator: x.generator,
    data: x.data,
    val: x.val,
    test: x.test,
    valFraction: x.valFraction,
    input: x.input,
    way: x.way,
    shot: run.kTrain,
    query: x.query,
    episodes: x.episodes,
    lr: x.lr,
    imageSize: x.imageSize,
    sampler: run.sampler,
    idLayers: run.idLayers,
    epsAnchor: x.epsAnchor,
    epsNear: x.epsNear,
    sigma: x.sigma,
    psi: x.psi,
    noise: x.noise,
    calibrationSamples: x.calibrationSamples,
    poolGroups: x.poolGroups,
    poolMembers: Math.max(x.poolMembers, run.kTrain + x.query),
    poolRefresh: x.poolRefresh,
    valEvery: x.valEvery,
    valEpisodes: x.valEpisodes,
    valShot: x.valShot,
    patience: x.patience,
    testShots: x.kTest,
    testEpisodes: x.testEpisodes,
    logEvery: x.logEvery,
    seed: run.seed,
    out: `${x.out}/runs/${run.name}`,
  };
}

/** The settings that decide every number; a rerun into the same --out must match them. */
export function resultKey(x: ExperimentConfig): Record<string, unknown> {
  const { out: _out, ...rest } = x;
  return rest;
}
