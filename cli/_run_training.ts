/**
 * One training run as a library function, shared by `deno task train` and
 * `deno task experiments`: episodes (synthetic tasks, or real labelled
 * identities for the supervised baseline), meta-training with validation on
 * real identities and early stopping, then a test of the best checkpoint on
 * unseen identities. Writes the run directory described in the README and
 * returns what it measured.
 */
import { Rng } from "../data/random.ts";
import { writeGridPng, writeLinePlotPng } from "../data/png.ts";
import { writeFileAtomic } from "../data/safetensors.ts";
import { acquireGpu, type Gpu } from "../kernels/device.ts";
import { gpuMemory } from "../kernels/tensor.ts";
import type { AccuracySummary } from "../protonet/evaluate.ts";
import {
  type EvalResult,
  type EvalSetting,
  evaluateOnSet,
  type LoadedSet,
  loadSet,
} from "../protonet/real_eval.ts";
import { RealEpisodes } from "../protonet/real_episodes.ts";
import { ProtoNetSession } from "../protonet/session.ts";
import {
  type EpisodeSource,
  initialLoopState,
  type LoopState,
  runTrainingLoop,
} from "../protonet/train_loop.ts";
import { pct, RunLog, UsageError } from "./_common.ts";
import { openRealData, type RealData } from "./_real_data.ts";
import { Synthesis, type SyntheticEpisodes } from "./_synthesis.ts";
import type { TrainConfig } from "./_train_config.ts";

/** Where a run's training episodes come from. */
export type EpisodeKind = "synthetic" | "supervised";

/** Options beyond the flags; the defaults give `deno task train`. */
export interface TrainingOptions {
  /** Real data opened and verified beforehand (shared by many runs); else opened here. */
  real?: RealData;
  /** Validation and test images already loaded (shared by many runs); else loaded here. */
  sets?: { val: LoadedSet; test: LoadedSet; train?: LoadedSet };
  /** Synthetic tasks (the method, default) or real labelled training identities. */
  episodes?: EpisodeKind;
  /** Also validate at these K (one curve per K); the stopping rule keeps `valShot`. */
  curveShots?: number[];
  /** Test the random-init Conv-4 and pixel prototypes too (default true). */
  baselines?: boolean;
  /** Keep per-episode test accuracies in results.json, for paired tests (default false). */
  perEpisode?: boolean;
  /** Directory of the calibration cache (default `runs/.cache`). */
  cacheDir?: string;
  /**
   * Seed of the validation and test episodes (default `config.seed`). Repeats of a run with
   * other training seeds keep it, so that all of them are scored on the same episodes.
   */
  evalSeed?: number;
}

/** Where the run's human-readable lines go (default: the console). */
export interface TrainingHooks {
  say(line: string): void;
}

/** Validation accuracy at one K after some training episodes. */
export interface CurvePoint {
  episode: number;
  shot: number;
  mean: number;
  ci95: number;
}

/** Test results of one method at every K. */
export interface MethodResults {
  method: string;
  results: EvalResult[];
}

/** What a finished run measured. */
export interface TrainingOutcome {
  out: string;
  /** Best checkpoint on validation (the one tested). */
  best: string;
  state: LoopState;
  stoppedEarly: boolean;
  /** Validation curves at `curveShots` (empty without them). */
  curves: CurvePoint[];
  /** The trained network first, then the baselines when asked for. */
  tests: MethodResults[];
  wallSeconds: number;
  resultsPath: string;
}

/** Runs training, validation and test; writes the run directory `config.out`. */
export async function runTraining(
  config: TrainConfig,
  options: TrainingOptions = {},
  hooks: TrainingHooks = { say: (line) => console.log(line) },
): Promise<TrainingOutcome> {
  const kind = options.episodes ?? "synthetic";
  const started = performance.now();
  const gpu = await acquireGpu();

  // Everything that can be wrong with the input is checked before the run
  // directory is created, so a bad flag or file leaves nothing behind.
  const real = options.real ?? await openRealData({
    ...config,
    maxShot: Math.max(config.valShot, ...config.testShots),
  });
  if (kind === "supervised" && !real.train) {
    throw new UsageError("the supervised baseline needs training identities (--train-fraction)");
  }
  const synthesis = kind === "synthetic" ? await Synthesis.create(gpu, config) : undefined;
  const facts: Record<string, unknown> = synthesis
    ? { generator: config.generator, sampler: synthesis.samplerConfig }
    : { episodes: "supervised: real labelled training identities" };
  const session = ProtoNetSession.create(gpu, config, real.inputMode, facts);
  let state: LoopState = initialLoopState();
  if (config.resume) state = await session.resume(config.resume);

  await Deno.mkdir(config.out, { recursive: true });
  const log = new RunLog(config.out);
  const say = (line: string) => hooks.say(line);
  say(`adapter      ${gpu.description}${gpu.isFallback ? " (software fallback)" : ""}`);
  if (synthesis) say(`generator    ${config.generator} (${synthesis.describe()})`);
  else say(`episodes     supervised: ${real.train!.identities.length} labelled identities`);
  say(`real data    ${real.describe()}`);
  say(
    `input        ${real.inputMode} ${config.imageSize}×${config.imageSize}` +
      `${real.modeNote ? ` (${real.modeNote})` : ""}`,
  );
  say(
    `task         ${config.way}-way ${config.shot}-shot ${config.query}-query, ` +
      `${config.episodes} episodes max, lr ${config.lr}, seed ${config.seed}`,
  );
  for (const line of real.warnings) say(`warning      ${line}`);
  await log.writeJson("config.json", { ...config, adapter: gpu.description });
  await log.writeJson("split.json", real.split);

  let pool: SyntheticEpisodes | undefined;
  let source: EpisodeSource;
  if (synthesis) {
    const calibration = await synthesis.calibrate(options.cacheDir ?? "runs/.cache", say);
    await log.writeJson("calibration.json", calibration);
    facts.calibration = calibration;
    facts.split = real.split;
    pool = await synthesis.buildPool(gpu, real.inputMode, say);
    await pool.writeTaskPicture(`${config.out}/task.png`);
    say(`task grid    ${config.out}/task.png (rows = classes)`);
    source = pool;
  } else {
    facts.split = real.split;
    const trainSet = options.sets?.train ?? await loadSet(real.train!);
    const episodes = new RealEpisodes(trainSet, config.way, config.shot, config.query);
    await writeRealTask(episodes, `${config.out}/task.png`, config.seed);
    say(`task grid    ${config.out}/task.png (rows = identities)`);
    source = episodes;
  }

  const valSet = options.sets?.val ?? await loadSet(real.val);
  const curves = await readCurves(config.out, config.resume ? state.episode : -1);
  const result = await trainUnlessStopped(gpu, config, {
    session,
    source,
    pool,
    state,
    valSet,
    curveShots: options.curveShots ?? [],
    evalSeed: options.evalSeed ?? config.seed,
    curves,
    log,
    say,
  });
  state = result.state;
  say(
    result.stoppedEarly
      ? `early stop   no improvement in ${config.patience} validations; best @ ${state.bestEpisode}`
      : `finished     ${state.episode} episodes; best validation @ ${state.bestEpisode}`,
  );
  if (pool) say(`synthesis    ${pool.summary()}`);
  await writeLinePlotPng(`${config.out}/validation.png`, [{
    name: `validation ${config.way}-way ${config.valShot}-shot`,
    xs: state.history.map((h) => h.episode),
    ys: state.history.map((h) => 100 * h.mean),
  }], { title: "meta-validation accuracy", xLabel: "episode", yLabel: "accuracy %" });

  // Test: best checkpoint vs baselines, on identical episodes.
  await session.load(`${config.out}/best.safetensors`);
  const testSet = options.sets?.test ?? await loadSet(real.test);
  const settings: EvalSetting[] = config.testShots.map((shot) => ({
    way: config.way,
    shot,
    query: config.query,
    episodes: config.testEpisodes,
    seed: (options.evalSeed ?? config.seed) + 2,
  }));
  say(
    `testing on ${real.test.identities.length} unseen identities, ` +
      `${config.testEpisodes} episodes per setting`,
  );
  const rows: MethodResults[] = [{
    method: "protonet (this run)",
    results: await evaluateOnSet(gpu, session.evalModel(), testSet, settings),
  }];
  if (options.baselines ?? true) {
    rows.push({
      method: "random-init conv4",
      results: await evaluateOnSet(
        gpu,
        await session.randomInitModel(config.seed + 3),
        testSet,
        settings,
      ),
    }, {
      method: "pixel prototypes",
      results: await evaluateOnSet(gpu, { kind: "pixels" }, testSet, settings),
    });
  }
  say("");
  say(
    `method                ${
      settings.map((s) => `${s.way}-way ${s.shot}-shot`.padEnd(18)).join("")
    }`,
  );
  for (const r of rows) {
    say(`${r.method.padEnd(22)}${r.results.map((x) => pct(x.mean, x.ci95).padEnd(18)).join("")}`);
  }
  const wallSeconds = (performance.now() - started) / 1000;
  const resultsPath = await log.writeJson("results.json", {
    data: real.describe(),
    split: real.split,
    inputMode: real.inputMode,
    bn: "inductive (running statistics)",
    ...(kind === "supervised" ? { episodeSource: facts.episodes } : {}),
    checkpoint: `${config.out}/best.safetensors`,
    bestEpisode: state.bestEpisode,
    bestValidation: state.bestValAccuracy,
    stoppedEarly: options.curveShots ? result.stoppedEarly : undefined,
    history: state.history,
    curves: options.curveShots ? curves : undefined,
    acceptance: pool?.acceptance(),
    wallSeconds,
    peakGpuBytes: gpuMemory.peakBytes,
    results: rows.map((r) => ({
      method: r.method,
      results: r.results.map(({ perEpisode, ...rest }) =>
        options.perEpisode ? { ...rest, perEpisode: Array.from(perEpisode) } : rest
      ),
    })),
  });
  say("");
  say(`wall time    ${(wallSeconds / 60).toFixed(1)} min`);
  say(`results      ${resultsPath}`);
  say(`checkpoint   ${config.out}/best.safetensors`);

  pool?.pool.destroy();
  synthesis?.generator.destroy();
  session.net.destroy();
  return {
    out: config.out,
    best: `${config.out}/best.safetensors`,
    state,
    stoppedEarly: result.stoppedEarly,
    curves,
    tests: rows,
    wallSeconds,
    resultsPath,
  };
}

interface LoopParts {
  session: ProtoNetSession;
  source: EpisodeSource;
  pool?: SyntheticEpisodes;
  state: LoopState;
  valSet: LoadedSet;
  curveShots: number[];
  evalSeed: number;
  /** Validation curves so far; extended in place. */
  curves: CurvePoint[];
  log: RunLog;
  say: (line: string) => void;
}

/**
 * The training loop with the run's hooks. A run resumed after its early stop
 * (killed before its test) is not trained further.
 */
async function trainUnlessStopped(
  gpu: Gpu,
  config: TrainConfig,
  p: LoopParts,
): Promise<{ state: LoopState; stoppedEarly: boolean }> {
  const { session, source, pool, state, log, say } = p;
  if (config.patience > 0 && state.sinceImprovement >= config.patience) {
    return { state, stoppedEarly: true };
  }
  const valSetting: EvalSetting = {
    way: config.way,
    shot: config.valShot,
    query: config.query,
    episodes: config.valEpisodes,
    seed: p.evalSeed + 1,
  };
  const extraShots = p.curveShots.filter((k) => k !== config.valShot);
  let pending: CurvePoint[] = [];
  return await runTrainingLoop(
    session,
    source,
    {
      episodes: config.episodes,
      validateEvery: config.valEvery,
      patience: config.patience,
      logEvery: config.logEvery,
      seed: config.seed,
    },
    state,
    {
      validate: async (): Promise<AccuracySummary> => {
        const settings = [valSetting, ...extraShots.map((shot) => ({ ...valSetting, shot }))];
        const rs = await evaluateOnSet(gpu, session.evalModel(), p.valSet, settings);
        pending = rs.filter((r) => p.curveShots.includes(r.shot))
          .map((r) => ({ episode: -1, shot: r.shot, mean: r.mean, ci95: r.ci95 }));
        const r = rs[0];
        return { episodes: r.episodes, mean: r.mean, ci95: r.ci95, perEpisode: r.perEpisode };
      },
      checkpoint: async (s, improved) => {
        await session.save(`${config.out}/last.safetensors`, s, { optimizer: true });
        if (improved) await session.save(`${config.out}/best.safetensors`, s, { optimizer: false });
        if (p.curveShots.length > 0) {
          await writeFileAtomic(`${config.out}/curves.json`, JSON.stringify(p.curves) + "\n");
        }
      },
      onLog: (l) => {
        const acc = pool?.acceptance();
        say(
          `episode ${String(l.episode).padStart(5)}  loss ${l.loss.toFixed(4)}  ` +
            `train acc ${(100 * l.accuracy).toFixed(1)}%  ${
              l.episodesPerSecond.toFixed(2)
            } ep/s  ` +
            (acc ? `accept anchors ${acc.anchors} near ${acc.near}  σ ${acc.sigma}  ` : "") +
            `gpu ${(gpuMemory.liveBytes / 2 ** 20).toFixed(0)} MiB`,
        );
        for (const note of pool?.notes() ?? []) say(`sampler      ${note}`);
        log.record("train", { ...l, gpuBytes: gpuMemory.liveBytes, acceptance: acc });
      },
      onValidation: (s, summary, improved) => {
        say(
          `validation @ ${s.episode}: ${config.way}-way ${config.valShot}-shot ` +
            `${pct(summary.mean, summary.ci95)} over ${summary.episodes} episodes` +
            `${
              improved ? "  (best so far, saved)" : `  (best ${pct(s.bestValAccuracy, 0)} @ ` +
                `${s.bestEpisode})`
            }`,
        );
        for (const c of pending) p.curves.push({ ...c, episode: s.episode });
        const extra = pending.length > 0
          ? { curves: pending.map((c) => ({ ...c, episode: s.episode })) }
          : {};
        log.record("validation", {
          episode: s.episode,
          mean: summary.mean,
          ci95: summary.ci95,
          ...extra,
        });
      },
    },
  );
}

/** Curves saved by an interrupted run, up to the episode it resumes from (-1: none). */
async function readCurves(out: string, upTo: number): Promise<CurvePoint[]> {
  if (upTo < 0) return [];
  try {
    const saved = JSON.parse(await Deno.readTextFile(`${out}/curves.json`)) as CurvePoint[];
    return saved.filter((c) => c.episode <= upTo);
  } catch {
    return [];
  }
}

/** One real training episode as a picture: rows are identities, support then query. */
async function writeRealTask(episodes: RealEpisodes, path: string, seed: number): Promise<void> {
  const { way, shot, query } = episodes;
  const flat = episodes.episodeImages(new Rng(seed + 404));
  const per = flat.length / (way * (shot + query));
  const images: Float32Array[] = [];
  for (let c = 0; c < way; c++) {
    for (let j = 0; j < shot; j++) {
      images.push(flat.slice((c * shot + j) * per, (c * shot + j + 1) * per));
    }
    for (let j = 0; j < query; j++) {
      const slot = way * shot + c * query + j;
      images.push(flat.slice(slot * per, (slot + 1) * per));
    }
  }
  await writeGridPng(path, images, way, shot + query, { scale: 2 });
}
