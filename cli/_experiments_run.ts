/**
 * Runs the experiments plan: opens the real data once (training / validation
 * / test identities), draws the style-mixing grids, scores the untrained
 * baselines, then trains each planned run through `runTraining` into
 * OUT/runs/<name>/ and rewrites results.json, the plots and report.md after
 * each one, so a partial run already reads as a (partial) report.
 *
 * Resume: a run whose results.json is complete is reused; one with a
 * last.safetensors continues from it; anything else starts afresh.
 */
import { Rng } from "../data/random.ts";
import { writeGridPng } from "../data/png.ts";
import { writeFileAtomic } from "../data/safetensors.ts";
import { drawMixingLatents, renderMixingGrid } from "../gan/style_mixing.ts";
import { acquireGpu, type Gpu } from "../kernels/device.ts";
import { Conv4 } from "../protonet/conv4.ts";
import { type EvalSetting, evaluateOnSet, type LoadedSet, loadSet } from "../protonet/real_eval.ts";
import { embedderOf } from "../protonet/session.ts";
import { pct, UsageError } from "./_common.ts";
import {
  type ExperimentConfig,
  type LayerSet,
  layerSetsFor,
  type PlannedRun,
  planRuns,
  resultKey,
  trainConfigFor,
} from "./_experiments_config.ts";
import { type Figure, writePlots } from "./_experiments_figures.ts";
import { renderReport } from "./_experiments_report.ts";
import {
  BASELINE_IDS,
  compareAll,
  type ExperimentResults,
  experimentTables,
  type MethodRow,
  type PerEpisode,
  type RunRecord,
} from "./_experiments_results.ts";
import { openRealData, type RealData } from "./_real_data.ts";
import { runTraining } from "./_run_training.ts";
import { Synthesis } from "./_synthesis.ts";

/** Where progress lines go. */
export interface ExperimentHooks {
  say(line: string): void;
}

const ROOT = new URL("../", import.meta.url).pathname;

/** Paths inside the repository shown relative to it (results.json and report.md travel). */
function shown(text: string): string {
  return text.split(ROOT).join("");
}

/** Log lines of a training run that are echoed to the console (all go to its log.txt). */
const ECHO = /^(episode|validation @|early stop|finished|task pool|testing|protonet \(this)/;

/** Runs (or resumes) every experiment; returns the final results. */
export async function runExperiments(
  x: ExperimentConfig,
  hooks: ExperimentHooks = { say: (line) => console.log(line) },
): Promise<ExperimentResults> {
  const say = hooks.say;
  const started = performance.now();
  const startedAt = new Date().toISOString();
  const gpu = await acquireGpu();
  const real = await openRealData({
    data: x.data,
    val: x.val,
    test: x.test,
    train: x.train,
    valFraction: x.valFraction,
    trainFraction: x.data ? x.trainFraction : undefined,
    input: x.input,
    imageSize: x.imageSize,
    way: x.way,
    query: x.query,
    maxShot: Math.max(x.valShot, ...x.kTest),
    seed: x.seed,
  });
  const probe: PlannedRun = {
    name: "probe",
    label: "",
    labels: {},
    episodes: "synthetic",
    sampler: "mix",
    kTrain: 1,
    idLayers: [0, 1],
    seed: x.seed,
    experiments: [],
  };
  const synthesis = await Synthesis.create(gpu, {
    ...trainConfigFor(x, probe),
    idLayers: undefined,
  });
  const numWs = synthesis.generator.config.numWs;
  const defaultLayers = [...synthesis.samplerConfig.idLayers] as [number, number];
  const layerSets = layerSetsFor(x, numWs, defaultLayers);
  const plan = planRuns(x, layerSets, defaultLayers);
  await prepareOut(x, gpu);
  await writeFileAtomic(`${x.out}/split.json`, JSON.stringify(real.split, null, 2) + "\n");

  say(`adapter      ${gpu.description}${gpu.isFallback ? " (software fallback)" : ""}`);
  say(`generator    ${x.generator} (${synthesis.describe()})`);
  say(`real data    ${real.describe()}`);
  for (const line of real.warnings) say(`warning      ${line}`);
  if (x.testEpisodes < 1000) {
    say(`note         ${x.testEpisodes} test episodes per setting; 1000 or more give usable CIs`);
  }
  if (x.preset === "full" && gpu.isFallback) {
    say("note         the full preset is sized for a GPU; on this software adapter use --quick");
  }
  say(
    `plan         ${plan.length} training runs of up to ${x.episodes} episodes: ` +
      plan.map((p) => p.name).join(", "),
  );

  const sets = {
    val: await loadSet(real.val),
    test: await loadSet(real.test),
    train: real.train ? await loadSet(real.train) : undefined,
  };
  const figures: Figure[] = [];
  figures.push(...await styleMixingGrids(x, synthesis, layerSets));
  synthesis.generator.destroy();
  say(`grids        ${figures.map((f) => f.file).join(", ")}`);

  const settings: EvalSetting[] = x.kTest.map((shot) => ({
    way: x.way,
    shot,
    query: x.query,
    episodes: x.testEpisodes,
    seed: x.seed + 2,
  }));
  const per: PerEpisode = new Map();
  const baselines = await scoreBaselines(gpu, x, sets.test, settings, per);
  for (const b of baselines) say(`baseline     ${b.label.padEnd(20)} ${cells(b)}`);

  const records = new Map<string, RunRecord>();
  for (const p of plan) records.set(p.name, await readRun(x, p, per));
  let runSeconds = [...records.values()].reduce((s, r) => s + (r.wallSeconds ?? 0), 0);
  const earlier = await previousSessions(x.out);
  const publish = async () => {
    const sessions = [...earlier, {
      started: startedAt,
      seconds: (performance.now() - started) / 1000,
    }];
    const results = assemble(x, gpu, real, synthesis.describe(), {
      plan,
      records,
      baselines,
      per,
      defaultLayers,
      numWs,
      figures,
      sessions,
      runSeconds,
    });
    results.figures = [...await writePlots(x.out, results), ...figures];
    await writeFileAtomic(`${x.out}/results.json`, JSON.stringify(results, null, 1) + "\n");
    await writeFileAtomic(`${x.out}/report.md`, renderReport(results));
    return results;
  };

  await publish();
  const todo = plan.filter((p) => records.get(p.name)!.status === "pending");
  for (const [i, p] of plan.entries()) {
    const tag = `[${i + 1}/${plan.length}] ${p.name}`;
    const rec = records.get(p.name)!;
    if (rec.status !== "pending") {
      say(`${tag}: ${rec.status === "done" ? "finished earlier, reused" : rec.note}`);
      continue;
    }
    const cfg = trainConfigFor(x, p);
    const last = `${cfg.out}/last.safetensors`;
    if (await exists(last)) cfg.resume = last;
    else await Deno.remove(cfg.out, { recursive: true }).catch(() => {});
    await Deno.mkdir(cfg.out, { recursive: true });
    say(`${tag}: ${cfg.resume ? "resuming" : "training"} ${p.label} (log: ${cfg.out}/log.txt)`);
    const logPath = `${cfg.out}/log.txt`;
    const t0 = performance.now();
    await runTraining(cfg, {
      real,
      sets,
      episodes: p.episodes,
      curveShots: x.kTest,
      baselines: false,
      perEpisode: true,
      evalSeed: x.seed,
    }, {
      say: (line) => {
        Deno.writeTextFileSync(logPath, line + "\n", { append: true });
        if (ECHO.test(line)) say(`  ${p.name} | ${line}`);
      },
    });
    const fresh = await readRun(x, p, per);
    records.set(p.name, fresh);
    runSeconds += fresh.wallSeconds ?? 0;
    await Deno.copyFile(`${cfg.out}/task.png`, `${x.out}/task-${p.name}.png`);
    figures.push({ file: `task-${p.name}.png`, caption: `Task: ${p.label}` });
    await publish();
    const elapsed = (performance.now() - t0) / 1000;
    const left = todo.length - todo.indexOf(p) - 1;
    say(
      `${tag}: done in ${(elapsed / 60).toFixed(1)} min, test ${cells(fresh)}; ` +
        `${left} run(s) left, about ${((left * elapsed) / 60).toFixed(0)} min`,
    );
  }
  for (const p of plan) {
    const file = `task-${p.name}.png`;
    const done = records.get(p.name)!.status === "done";
    if (done && !figures.some((f) => f.file === file) && await exists(`${x.out}/${file}`)) {
      figures.push({ file, caption: `Task: ${p.label}` });
    }
  }
  return await publish();
}

/** Checks that OUT is new or holds this same experiment, then records the settings. */
async function prepareOut(x: ExperimentConfig, gpu: Gpu): Promise<void> {
  const path = `${x.out}/config.json`;
  const key = resultKey(x);
  let previous: Record<string, unknown> | undefined;
  try {
    previous = JSON.parse(await Deno.readTextFile(path)).settings;
  } catch {
    const entries = await Array.fromAsync(Deno.readDir(x.out)).catch(() => []);
    if (entries.length > 0) {
      throw new UsageError(`--out ${x.out} is not empty and holds no experiments run`);
    }
  }
  if (previous) {
    const differs = Object.keys({ ...key, ...previous }).filter((k) =>
      JSON.stringify(key[k]) !== JSON.stringify(previous![k])
    );
    if (differs.length > 0) {
      throw new UsageError(
        `--out ${x.out} holds an experiments run with other settings (${differs.join(", ")}); ` +
          "rerun with the same flags to resume it, or choose another --out",
      );
    }
  }
  await Deno.mkdir(`${x.out}/runs`, { recursive: true });
  await writeFileAtomic(
    path,
    JSON.stringify({ settings: key, out: x.out, adapter: gpu.description }, null, 2) + "\n",
  );
}

/** One style-mixing grid per identity-layer choice, all from the same latents. */
async function styleMixingGrids(
  x: ExperimentConfig,
  synthesis: Synthesis,
  layerSets: LayerSet[],
): Promise<Figure[]> {
  const rng = new Rng(x.seed + 505);
  const latents = await drawMixingLatents(synthesis.mapper, 6, rng);
  const figures: Figure[] = [];
  for (const set of layerSets) {
    const [a, b] = set.layers;
    const file = `style-mixing-L${a}-${b - 1}.png`;
    const grid = await renderMixingGrid(
      synthesis.generator,
      synthesis.mapper.wAvg,
      latents,
      set.layers,
      0.7,
      rng,
    );
    await writeGridPng(`${x.out}/${file}`, grid.images, grid.rows, grid.cols, { scale: 2 });
    figures.push({
      file,
      caption: `Style mixing, identity from ${set.label}: rows take the identity inputs from ` +
        "the left face, columns every other input from the top face (ψ 0.7)",
    });
  }
  return figures;
}

/** Random-init Conv-4 and pixel prototypes on the test episodes. */
async function scoreBaselines(
  gpu: Gpu,
  x: ExperimentConfig,
  test: LoadedSet,
  settings: EvalSetting[],
  per: PerEpisode,
): Promise<MethodRow[]> {
  const net = new Conv4(gpu, new Rng(x.seed + 3), { batch: 50, imageSize: x.imageSize });
  const rows: MethodRow[] = [];
  for (
    const [id, label, model] of [
      [BASELINE_IDS.random, "random-init Conv-4", embedderOf(net)],
      [BASELINE_IDS.pixels, "pixel prototypes", { kind: "pixels" as const }],
    ] as const
  ) {
    const rs = await evaluateOnSet(gpu, model, test, settings);
    per.set(id, new Map(rs.map((r) => [r.shot, r.perEpisode])));
    rows.push({
      id,
      label,
      test: rs.map((r) => ({ shot: r.shot, mean: r.mean, ci95: r.ci95, episodes: r.episodes })),
    });
  }
  net.destroy();
  return rows;
}

interface SavedRun {
  history?: RunRecord["history"];
  curves?: RunRecord["curves"];
  bestEpisode?: number;
  bestValidation?: number;
  stoppedEarly?: boolean;
  wallSeconds?: number;
  results?: {
    results: {
      shot: number;
      episodes: number;
      seed: number;
      mean: number;
      ci95: number;
      perEpisode?: number[];
    }[];
  }[];
}

/** A planned run's record: finished (from its results.json), skipped or pending. */
async function readRun(x: ExperimentConfig, p: PlannedRun, per: PerEpisode): Promise<RunRecord> {
  const base: RunRecord = { ...p, status: "pending" };
  if (p.episodes === "supervised" && !x.data && !x.train) {
    return { ...base, status: "skipped", note: "no training identities (give --train DIR)" };
  }
  let saved: SavedRun;
  try {
    saved = JSON.parse(await Deno.readTextFile(`${x.out}/runs/${p.name}/results.json`));
  } catch {
    return base;
  }
  const rows = saved.results?.[0]?.results ?? [];
  const complete = x.kTest.every((k) =>
    rows.some((r) =>
      r.shot === k && r.episodes === x.testEpisodes && r.seed === x.seed + 2 &&
      r.perEpisode?.length === x.testEpisodes
    )
  );
  if (!complete || !saved.history) return base;
  const test = x.kTest.map((k) => rows.find((r) => r.shot === k)!);
  per.set(p.name, new Map(test.map((r) => [r.shot, r.perEpisode!])));
  return {
    ...base,
    status: "done",
    episodesTrained: saved.history.at(-1)?.episode ?? 0,
    bestEpisode: saved.bestEpisode,
    bestValidation: saved.bestValidation,
    stoppedEarly: saved.stoppedEarly,
    wallSeconds: saved.wallSeconds,
    history: saved.history,
    curves: saved.curves ?? [],
    test: test.map((r) => ({ shot: r.shot, mean: r.mean, ci95: r.ci95, episodes: r.episodes })),
  };
}

interface Parts {
  plan: PlannedRun[];
  records: Map<string, RunRecord>;
  baselines: MethodRow[];
  per: PerEpisode;
  defaultLayers: [number, number];
  numWs: number;
  figures: Figure[];
  sessions: ExperimentResults["sessions"];
  runSeconds: number;
}

function assemble(
  x: ExperimentConfig,
  gpu: Gpu,
  real: RealData,
  generator: string,
  p: Parts,
): ExperimentResults {
  const tables = experimentTables(p.plan, p.records, p.baselines, p.defaultLayers);
  const runs = p.plan.map((q) => p.records.get(q.name)!);
  const main = runs[0];
  return {
    format: "facegen-experiments/v1",
    status: runs.every((r) => r.status !== "pending") ? "complete" : "partial",
    preset: x.preset,
    settings: Object.fromEntries(
      Object.entries(resultKey(x)).map(([k, v]) => [k, typeof v === "string" ? shown(v) : v]),
    ),
    adapter: gpu.description,
    softwareAdapter: gpu.isFallback,
    data: {
      description: shown(real.describe()),
      inputMode: real.inputMode,
      identities: {
        train: real.train?.identities.length ?? 0,
        validation: real.val.identities.length,
        test: real.test.identities.length,
      },
      splitFile: "split.json",
      warnings: real.warnings.length,
    },
    generator: {
      path: shown(x.generator),
      description: generator,
      numWs: p.numWs,
      defaultLayers: p.defaultLayers,
    },
    evaluation: {
      way: x.way,
      query: x.query,
      shots: x.kTest,
      episodes: x.testEpisodes,
      seed: x.seed + 2,
      valShot: x.valShot,
      bn: "inductive (running statistics)",
    },
    runs,
    baselines: p.baselines,
    experiments: tables,
    comparisons: compareAll(tables, p.per),
    validation: main.status === "done"
      ? {
        run: main.name,
        valShot: x.valShot,
        bestEpisode: main.bestEpisode!,
        lastEpisode: main.episodesTrained!,
        stoppedEarly: main.stoppedEarly ?? false,
        curves: main.curves ?? [],
      }
      : undefined,
    figures: p.figures,
    sessions: p.sessions,
    wallSeconds: p.sessions.reduce((sum, x) => sum + x.seconds, 0),
    runSeconds: p.runSeconds,
  };
}

function cells(row: { test?: { shot: number; mean: number; ci95: number }[] }): string {
  return (row.test ?? []).map((r) => `K=${r.shot} ${pct(r.mean, r.ci95)}`).join(", ");
}

/** Sessions recorded by earlier invocations on this directory (none for a new one). */
async function previousSessions(out: string): Promise<ExperimentResults["sessions"]> {
  try {
    const saved = JSON.parse(await Deno.readTextFile(`${out}/results.json`));
    return Array.isArray(saved.sessions) ? saved.sessions : [];
  } catch {
    return [];
  }
}

async function exists(path: string): Promise<boolean> {
  return await Deno.stat(path).then(() => true, () => false);
}
