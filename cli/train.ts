/**
 * `deno task train`: meta-train a Conv-4 ProtoNet on StyleGAN2-synthesised
 * face tasks, validate on real identities with early stopping, then test the
 * best checkpoint next to the random-init and pixel baselines.
 */
import { parseArgs } from "node:util";
import { writeLinePlotPng } from "../data/png.ts";
import { acquireGpu } from "../kernels/device.ts";
import { gpuMemory } from "../kernels/tensor.ts";
import { initialLoopState, type LoopState, runTrainingLoop } from "../protonet/train_loop.ts";
import { type EvalSetting, evaluateOnSet, loadSet } from "../protonet/real_eval.ts";
import { pct, RunLog, runMain } from "./_common.ts";
import { parseTrainFlags, TRAIN_OPTIONS, TRAIN_USAGE } from "./_train_config.ts";
import { openRealData } from "./_real_data.ts";
import { Synthesis } from "./_synthesis.ts";
import { ProtoNetSession } from "../protonet/session.ts";

async function main(): Promise<void> {
  const { values } = parseArgs({ args: Deno.args, options: TRAIN_OPTIONS, strict: true });
  if (values.help) {
    console.log(TRAIN_USAGE);
    return;
  }
  const config = await parseTrainFlags(values);
  const started = performance.now();
  const gpu = await acquireGpu();

  // Everything that can be wrong with the input is checked before the run
  // directory is created, so a bad flag or file leaves nothing behind.
  const real = await openRealData({
    ...config,
    maxShot: Math.max(config.valShot, ...config.testShots),
  });
  const synthesis = await Synthesis.create(gpu, config);
  const facts: Record<string, unknown> = {
    generator: config.generator,
    sampler: synthesis.samplerConfig,
  };
  const session = ProtoNetSession.create(gpu, config, real.inputMode, facts);
  let state: LoopState = initialLoopState();
  if (config.resume) state = await session.resume(config.resume);

  await Deno.mkdir(config.out, { recursive: true });
  const log = new RunLog(config.out);
  log.say(`adapter      ${gpu.description}${gpu.isFallback ? " (software fallback)" : ""}`);
  log.say(`generator    ${config.generator} (${synthesis.describe()})`);
  log.say(`real data    ${real.describe()}`);
  log.say(
    `input        ${real.inputMode} ${config.imageSize}×${config.imageSize}` +
      `${real.modeNote ? ` (${real.modeNote})` : ""}`,
  );
  log.say(
    `task         ${config.way}-way ${config.shot}-shot ${config.query}-query, ` +
      `${config.episodes} episodes max, lr ${config.lr}, seed ${config.seed}`,
  );
  for (const line of real.warnings) log.say(`warning      ${line}`);
  await log.writeJson("config.json", { ...config, adapter: gpu.description });
  await log.writeJson("split.json", real.split);

  const calibration = await synthesis.calibrate("runs/.cache", (line) => log.say(line));
  await log.writeJson("calibration.json", calibration);
  facts.calibration = calibration;
  facts.split = real.split;
  const pool = await synthesis.buildPool(gpu, real.inputMode, (line) => log.say(line));
  await pool.writeTaskPicture(`${config.out}/task.png`);
  log.say(`task grid    ${config.out}/task.png (rows = classes)`);

  const valSet = await loadSet(real.val);
  const valSetting: EvalSetting = {
    way: config.way,
    shot: config.valShot,
    query: config.query,
    episodes: config.valEpisodes,
    seed: config.seed + 1,
  };
  const result = await runTrainingLoop(
    session,
    pool,
    {
      episodes: config.episodes,
      validateEvery: config.valEvery,
      patience: config.patience,
      logEvery: config.logEvery,
      seed: config.seed,
    },
    state,
    {
      validate: async () => {
        const [r] = await evaluateOnSet(gpu, session.evalModel(), valSet, [valSetting]);
        return { episodes: r.episodes, mean: r.mean, ci95: r.ci95, perEpisode: r.perEpisode };
      },
      checkpoint: async (s, improved) => {
        await session.save(`${config.out}/last.safetensors`, s, { optimizer: true });
        if (improved) await session.save(`${config.out}/best.safetensors`, s, { optimizer: false });
      },
      onLog: (l) => {
        const acc = pool.acceptance();
        log.say(
          `episode ${String(l.episode).padStart(5)}  loss ${l.loss.toFixed(4)}  ` +
            `train acc ${(100 * l.accuracy).toFixed(1)}%  ${
              l.episodesPerSecond.toFixed(2)
            } ep/s  ` +
            `accept anchors ${acc.anchors} near ${acc.near}  σ ${acc.sigma}  ` +
            `gpu ${(gpuMemory.liveBytes / 2 ** 20).toFixed(0)} MiB`,
        );
        for (const note of pool.notes()) log.say(`sampler      ${note}`);
        log.record("train", { ...l, gpuBytes: gpuMemory.liveBytes, acceptance: acc });
      },
      onValidation: (s, summary, improved) => {
        log.say(
          `validation @ ${s.episode}: ${config.way}-way ${config.valShot}-shot ` +
            `${pct(summary.mean, summary.ci95)} over ${summary.episodes} episodes` +
            `${
              improved ? "  (best so far, saved)" : `  (best ${pct(s.bestValAccuracy, 0)} @ ` +
                `${s.bestEpisode})`
            }`,
        );
        log.record("validation", { episode: s.episode, mean: summary.mean, ci95: summary.ci95 });
      },
    },
  );
  state = result.state;
  log.say(
    result.stoppedEarly
      ? `early stop   no improvement in ${config.patience} validations; best @ ${state.bestEpisode}`
      : `finished     ${state.episode} episodes; best validation @ ${state.bestEpisode}`,
  );
  log.say(`synthesis    ${pool.summary()}`);
  await writeLinePlotPng(`${config.out}/validation.png`, [{
    name: `validation ${config.way}-way ${config.valShot}-shot`,
    xs: state.history.map((h) => h.episode),
    ys: state.history.map((h) => 100 * h.mean),
  }], { title: "meta-validation accuracy", xLabel: "episode", yLabel: "accuracy %" });

  // Test: best checkpoint vs baselines, on identical episodes.
  await session.load(`${config.out}/best.safetensors`);
  const testSet = await loadSet(real.test);
  const settings: EvalSetting[] = config.testShots.map((shot) => ({
    way: config.way,
    shot,
    query: config.query,
    episodes: config.testEpisodes,
    seed: config.seed + 2,
  }));
  log.say(
    `testing on ${real.test.identities.length} unseen identities, ` +
      `${config.testEpisodes} episodes per setting`,
  );
  const rows = [
    {
      method: "protonet (this run)",
      results: await evaluateOnSet(gpu, session.evalModel(), testSet, settings),
    },
    {
      method: "random-init conv4",
      results: await evaluateOnSet(
        gpu,
        await session.randomInitModel(config.seed + 3),
        testSet,
        settings,
      ),
    },
    {
      method: "pixel prototypes",
      results: await evaluateOnSet(gpu, { kind: "pixels" }, testSet, settings),
    },
  ];
  log.say("");
  log.say(
    `method                ${
      settings.map((s) => `${s.way}-way ${s.shot}-shot`.padEnd(18)).join("")
    }`,
  );
  for (const r of rows) {
    log.say(
      `${r.method.padEnd(22)}${r.results.map((x) => pct(x.mean, x.ci95).padEnd(18)).join("")}`,
    );
  }
  const wallSeconds = (performance.now() - started) / 1000;
  const resultsPath = await log.writeJson("results.json", {
    data: real.describe(),
    split: real.split,
    inputMode: real.inputMode,
    bn: "inductive (running statistics)",
    checkpoint: `${config.out}/best.safetensors`,
    bestEpisode: state.bestEpisode,
    bestValidation: state.bestValAccuracy,
    history: state.history,
    acceptance: pool.acceptance(),
    wallSeconds,
    peakGpuBytes: gpuMemory.peakBytes,
    results: rows.map((r) => ({
      method: r.method,
      results: r.results.map(({ perEpisode: _, ...rest }) => rest),
    })),
  });
  log.say("");
  log.say(`wall time    ${(wallSeconds / 60).toFixed(1)} min`);
  log.say(`results      ${resultsPath}`);
  log.say(`checkpoint   ${config.out}/best.safetensors`);
}

if (import.meta.main) runMain(main);
