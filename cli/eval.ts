/**
 * `deno task eval`: few-shot accuracy of a checkpoint (or a baseline) on a
 * real face data set, over seeded episodes, as a table or one JSON object.
 */
import { parseArgs } from "node:util";
import { FaceDataset } from "../data/dataset.ts";
import { Rng } from "../data/random.ts";
import { acquireGpu } from "../kernels/device.ts";
import { CheckpointError, loadCheckpoint } from "../protonet/checkpoint.ts";
import { Conv4 } from "../protonet/conv4.ts";
import { type EvalModel, type EvalSetting, evaluateOnSet, loadSet } from "../protonet/real_eval.ts";
import { embedderOf } from "../protonet/session.ts";
import {
  choiceFlag,
  intFlag,
  intListFlag,
  pct,
  requirePath,
  runMain,
  UsageError,
} from "./_common.ts";
import { EMBEDDED } from "./_train_config.ts";

const ROOT = new URL("../", import.meta.url).pathname;
const DEFAULT_CHECKPOINT = `${ROOT}models/protonet-default.safetensors`;

const USAGE = `deno task eval [flags]

Evaluates N-way K-shot accuracy on real faces (mean ± 95% CI over seeded
episodes; the same seed gives the same episodes for every model).

  --checkpoint FILE   ProtoNet checkpoint      [models/protonet-default.safetensors]
  --data DIR          CelebA layout or folder per identity        [embedded LFW set]
  --way N             classes per episode                          [5]
  --shot LIST         support images per class                     [1,5]
  --query Q           query images per class                       [5]
  --episodes E        episodes per setting                         [1000]
  --seed S                                                         [0]
  --baseline random|pixels   evaluate that baseline instead of the checkpoint
  --input rgb|gray --image-size S   input for a baseline run without --checkpoint [rgb, 32]
  --json              print one JSON object instead of a table
`;

async function main(): Promise<void> {
  const { values: v } = parseArgs({
    args: Deno.args,
    strict: true,
    options: {
      help: { type: "boolean", short: "h" },
      checkpoint: { type: "string" },
      "image-size": { type: "string", default: "32" },
      input: { type: "string", default: "rgb" },
      data: { type: "string", default: EMBEDDED.data },
      way: { type: "string", default: "5" },
      shot: { type: "string", default: "1,5" },
      query: { type: "string", default: "5" },
      episodes: { type: "string", default: "1000" },
      seed: { type: "string", default: "0" },
      baseline: { type: "string" },
      json: { type: "boolean", default: false },
    },
  });
  if (v.help) {
    console.log(USAGE);
    return;
  }
  const way = intFlag("way", v.way, 2, 100);
  const shots = intListFlag("shot", v.shot);
  const query = intFlag("query", v.query, 1, 100);
  const episodes = intFlag("episodes", v.episodes, 1, 1e6);
  const seed = intFlag("seed", v.seed, 0, 2 ** 31);
  const baseline = v.baseline === undefined
    ? undefined
    : choiceFlag("baseline", v.baseline, ["random", "pixels"] as const);
  // A baseline needs no checkpoint unless one is named (then it takes its input mode and size).
  const checkpointPath = v.checkpoint ?? (baseline ? undefined : DEFAULT_CHECKPOINT);
  if (checkpointPath) await requirePath("checkpoint", checkpointPath, "file");
  await requirePath("data", v.data!, "dir");
  const ckpt = checkpointPath ? await loadCheckpoint(checkpointPath) : undefined;
  const inputMode = ckpt?.info.inputMode ??
    choiceFlag("input", v.input!, ["rgb", "gray"] as const);
  const imageSize = ckpt?.info.imageSize ?? intFlag("image-size", v["image-size"], 16, 1024);
  const say = (line: string) => {
    if (!v.json) console.log(line);
  };

  const maxShot = Math.max(...shots);
  const dataset = await FaceDataset.open(v.data!, {
    size: imageSize,
    mode: inputMode,
    minImages: maxShot + query,
  });
  const report = await dataset.verify();
  for (const s of report.skipped) console.error(`warning: skipped ${s.path}: ${s.reason}`);
  if (dataset.identities.length < way) {
    throw new UsageError(
      `--data ${v.data}: ${dataset.identities.length} identities have ≥ ${maxShot + query} ` +
        `images (K=${maxShot} + Q=${query}); --way ${way} needs at least ${way}`,
    );
  }
  const gpu = await acquireGpu();
  say(`adapter     ${gpu.description}`);
  say(
    `data        ${v.data}: ${dataset.identities.length} identities with ≥ ` +
      `${maxShot + query} images, converted to ${inputMode} ${imageSize}×${imageSize} ` +
      `(${ckpt ? "the checkpoint's input mode" : "--input, --image-size"})`,
  );

  let model: EvalModel;
  let modelName: string;
  if (baseline === "pixels") {
    model = { kind: "pixels" };
    modelName = "pixel prototypes";
  } else {
    const net = new Conv4(gpu, new Rng(seed + 3), { batch: 50, imageSize });
    if (baseline === "random") {
      modelName = `random-init conv4 (seed ${seed + 3})`;
    } else {
      const params = new Map<string, Float32Array>();
      for (const name of net.parameterNames) {
        const t = ckpt!.tensors.get(name);
        if (!t) throw new CheckpointError(`${checkpointPath}: tensor ${name} is missing`);
        params.set(name, t.data);
      }
      net.setParameters(params);
      modelName = checkpointPath!;
    }
    model = embedderOf(net);
  }
  say(`model       ${modelName}`);

  const set = await loadSet(dataset);
  const settings: EvalSetting[] = shots.map((shot) => ({ way, shot, query, episodes, seed }));
  const results = await evaluateOnSet(gpu, model, set, settings);
  const bn = "inductive (running statistics)";
  if (v.json) {
    console.log(JSON.stringify({
      data: v.data,
      identities: dataset.identities.length,
      seed,
      bn: baseline === "pixels" ? "none" : bn,
      model: modelName,
      results: results.map(({ way, shot, query, episodes, mean, ci95 }) => ({
        way,
        shot,
        query,
        episodes,
        mean,
        ci95,
      })),
    }));
    return;
  }
  say(`batch norm  ${baseline === "pixels" ? "none" : bn}`);
  say("");
  say("way  shot  query  episodes  accuracy");
  for (const r of results) {
    say(
      `${String(r.way).padEnd(5)}${String(r.shot).padEnd(6)}${String(r.query).padEnd(7)}` +
        `${String(r.episodes).padEnd(10)}${pct(r.mean, r.ci95)}`,
    );
  }
}

if (import.meta.main) runMain(main);
