/**
 * Flags of `deno task train`, their defaults, and the typed configuration
 * they resolve to. Every hyper-parameter of the run is a flag.
 */
import { dirname } from "node:path";
import type { SamplerKind } from "../gan/sampler.ts";
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

const ROOT = new URL("../", import.meta.url).pathname;

/** The embedded generator and real data set (inside the repo). */
export const EMBEDDED = {
  generator: `${ROOT}models/stylegan2-celeba-64.safetensors`,
  data: `${ROOT}data/embedded/lfw-gray-64`,
};

/** Resolved configuration of one training run. */
export interface TrainConfig {
  generator: string;
  data?: string;
  val?: string;
  test?: string;
  valFraction: number;
  input: "auto" | "rgb" | "gray";
  way: number;
  shot: number;
  query: number;
  episodes: number;
  lr: number;
  imageSize: number;
  sampler: SamplerKind;
  idLayers?: [number, number];
  idRes?: [number, number];
  epsAnchor: number;
  epsNear: number;
  sigma: number;
  psi: number;
  noise: "random" | "const" | "none";
  calibrationSamples: number;
  poolGroups: number;
  poolMembers: number;
  poolRefresh: number;
  valEvery: number;
  valEpisodes: number;
  valShot: number;
  patience: number;
  testShots: number[];
  testEpisodes: number;
  logEvery: number;
  seed: number;
  out: string;
  resume?: string;
}

/** `parseArgs` option table. */
export const TRAIN_OPTIONS = {
  help: { type: "boolean", short: "h" },
  generator: { type: "string", default: EMBEDDED.generator },
  data: { type: "string" },
  val: { type: "string" },
  test: { type: "string" },
  "val-fraction": { type: "string", default: "0.3" },
  input: { type: "string", default: "auto" },
  way: { type: "string", default: "5" },
  shot: { type: "string", default: "1" },
  query: { type: "string", default: "5" },
  episodes: { type: "string", default: "1500" },
  lr: { type: "string", default: "0.001" },
  "image-size": { type: "string", default: "32" },
  sampler: { type: "string", default: "mix" },
  "id-layers": { type: "string" },
  "id-res": { type: "string" },
  "eps-anchor": { type: "string", default: "1.0" },
  "eps-near": { type: "string", default: "0.5" },
  sigma: { type: "string", default: "0.5" },
  psi: { type: "string", default: "1.0" },
  noise: { type: "string", default: "random" },
  "calibration-samples": { type: "string", default: "5000" },
  "pool-groups": { type: "string", default: "40" },
  "pool-members": { type: "string", default: "10" },
  "pool-refresh": { type: "string", default: "10" },
  "val-every": { type: "string", default: "100" },
  "val-episodes": { type: "string", default: "300" },
  "val-shot": { type: "string", default: "5" },
  patience: { type: "string", default: "5" },
  "test-shots": { type: "string", default: "1,5" },
  "test-episodes": { type: "string", default: "1000" },
  "log-every": { type: "string", default: "25" },
  seed: { type: "string", default: "0" },
  out: { type: "string" },
  resume: { type: "string" },
} as const;

/** Usage text with defaults. */
export const TRAIN_USAGE = `deno task train [flags]

Meta-trains a Conv-4 ProtoNet on StyleGAN2-synthesised face tasks, validates on
real identities (early stopping), then tests on unseen identities.

Data (defaults: the embedded generator and the embedded LFW set):
  --generator FILE       StyleGAN2 safetensors            [models/stylegan2-celeba-64.safetensors]
  --data DIR             one real set, split into disjoint validation/test identities
  --val DIR --test DIR   separate validation and test sets
  --val-fraction F       share of identities used for validation with --data     [0.3]
  --input auto|rgb|gray  network input mode; auto = gray if the real set is gray  [auto]
Task and optimisation:
  --way N --shot K --query Q                                          [5, 1, 5]
  --episodes N           training episodes (upper bound)                          [1500]
  --lr LR                Adam learning rate                                       [0.001]
  --image-size S         classifier input size (multiple of 16)                   [32]
Task synthesis:
  --sampler mix|nomix|zspace|random                                               [mix]
  --id-layers A-B        identity style inputs, inclusive (default 3-6)
  --id-res LO-HI         ... or as a resolution range in pixels, e.g. 16-32
  --eps-anchor E         anchors pairwise farther than E × median distance        [1.0]
  --eps-near E           near samples closer than E × median distance             [0.5]
  --sigma S              initial z noise for near samples (adapts)                [0.5]
  --psi P                truncation of mixed latents                              [1.0]
  --noise random|const|none                                                       [random]
  --calibration-samples N                                                         [5000]
  --pool-groups G        N-class groups kept on the GPU                           [40]
  --pool-members M       generated images per class (≥ K+Q)                       [10]
  --pool-refresh R       replace one group every R episodes (0 = never)           [10]
                         (--pool-groups 1 --pool-members K+Q --pool-refresh 1 = fresh tasks)
Validation, test, output:
  --val-every N --val-episodes E --val-shot K                         [100, 300, 5]
  --patience P           stop after P validations without improvement (0 = off)   [5]
  --test-shots LIST --test-episodes E                                 [1,5  1000]
  --log-every N --seed S                                              [25, 0]
  --out DIR              run directory                                [runs/train-<time>]
  --resume FILE          continue from a run's last.safetensors
`;

type Values = { [K in keyof typeof TRAIN_OPTIONS]?: string | boolean };

/** Validates flags and resolves defaults; throws UsageError naming the flag. */
export async function parseTrainFlags(v: Values): Promise<TrainConfig> {
  const s = (k: keyof typeof TRAIN_OPTIONS) => v[k] as string | undefined;
  const way = intFlag("way", s("way"), 2, 100);
  const shot = intFlag("shot", s("shot"), 1, 100);
  const query = intFlag("query", s("query"), 1, 100);
  const config: TrainConfig = {
    generator: s("generator")!,
    data: s("data"),
    val: s("val"),
    test: s("test"),
    valFraction: numberFlag("val-fraction", s("val-fraction"), 0.05, 0.95),
    input: choiceFlag("input", s("input")!, ["auto", "rgb", "gray"] as const),
    way,
    shot,
    query,
    episodes: intFlag("episodes", s("episodes"), 1),
    lr: numberFlag("lr", s("lr"), 1e-7, 1),
    imageSize: intFlag("image-size", s("image-size"), 16, 1024),
    sampler: choiceFlag("sampler", s("sampler")!, ["mix", "nomix", "zspace", "random"] as const),
    idLayers: s("id-layers") ? rangeFlag("id-layers", s("id-layers")) : undefined,
    idRes: s("id-res") ? rangeFlag("id-res", s("id-res")) : undefined,
    epsAnchor: numberFlag("eps-anchor", s("eps-anchor"), 0, 10),
    epsNear: numberFlag("eps-near", s("eps-near"), 1e-6, 10),
    sigma: numberFlag("sigma", s("sigma"), 1e-6, 10),
    psi: numberFlag("psi", s("psi"), 0, 2),
    noise: choiceFlag("noise", s("noise")!, ["random", "const", "none"] as const),
    calibrationSamples: intFlag("calibration-samples", s("calibration-samples"), 10, 1e6),
    poolGroups: intFlag("pool-groups", s("pool-groups"), 1, 10000),
    poolMembers: intFlag("pool-members", s("pool-members"), 1, 1000),
    poolRefresh: intFlag("pool-refresh", s("pool-refresh"), 0),
    valEvery: intFlag("val-every", s("val-every"), 1),
    valEpisodes: intFlag("val-episodes", s("val-episodes"), 1, 100000),
    valShot: intFlag("val-shot", s("val-shot"), 1, 100),
    patience: intFlag("patience", s("patience"), 0),
    testShots: intListFlag("test-shots", s("test-shots")),
    testEpisodes: intFlag("test-episodes", s("test-episodes"), 1, 1000000),
    logEvery: intFlag("log-every", s("log-every"), 1),
    seed: intFlag("seed", s("seed"), 0, 2 ** 31),
    out: s("out") ?? (s("resume") ? dirname(s("resume")!) : defaultRunDir("train")),
    resume: s("resume"),
  };
  if (config.poolMembers < shot + query) {
    throw new UsageError(
      `--pool-members ${config.poolMembers} must be at least --shot + --query = ${shot + query}`,
    );
  }
  if (config.idLayers && config.idRes) {
    throw new UsageError("give either --id-layers or --id-res, not both");
  }
  if ((config.val === undefined) !== (config.test === undefined)) {
    throw new UsageError("--val and --test go together (or use --data for one set split in two)");
  }
  if (config.data && config.val) throw new UsageError("use --data, or --val with --test, not both");
  if (!config.data && !config.val) config.data = EMBEDDED.data;
  await requirePath("generator", config.generator, "file");
  for (const flag of ["data", "val", "test"] as const) {
    const p = config[flag];
    if (p) await requirePath(flag, p, "dir");
  }
  if (config.resume) await requirePath("resume", config.resume, "file");
  if (!config.resume) {
    try {
      const entries = [...Deno.readDirSync(config.out)];
      if (entries.length > 0) {
        throw new UsageError(
          `--out ${config.out} already holds a run; choose another directory ` +
            `or continue it with --resume ${config.out}/last.safetensors`,
        );
      }
    } catch (e) {
      if (e instanceof UsageError) throw e;
    }
  }
  return config;
}
