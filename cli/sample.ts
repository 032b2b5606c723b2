/**
 * `deno task sample`: pictures of what the generator and the task sampler
 * make — a grid of random faces, one synthetic task (rows = classes) and a
 * style-mixing grid for choosing the identity style inputs.
 */
import { parseArgs } from "node:util";
import { writeGridPng } from "../data/png.ts";
import { Rng } from "../data/random.ts";
import { renderLatents } from "../gan/render.ts";
import { mixLatents } from "../gan/sampler.ts";
import { drawMixingLatents, renderMixingGrid } from "../gan/style_mixing.ts";
import { acquireGpu } from "../kernels/device.ts";
import {
  choiceFlag,
  defaultRunDir,
  intFlag,
  numberFlag,
  rangeFlag,
  requirePath,
  runMain,
} from "./_common.ts";
import { EMBEDDED } from "./_train_config.ts";
import { Synthesis } from "./_synthesis.ts";

const USAGE = `deno task sample [flags]

Writes samples.png (random faces), task.png (one synthetic N-way task, rows =
classes) and style-mixing.png (rows take the identity inputs from the left
column, everything else from the top row).

  --generator FILE   [models/stylegan2-celeba-64.safetensors]
  --count N          random faces in samples.png                 [32]
  --psi P            truncation for samples.png and the grid     [0.7]
  --way N --members M  task size                                 [5, 8]
  --sampler mix|nomix|zspace|random                              [mix]
  --id-layers A-B    identity style inputs, inclusive            [3-6 for 10 inputs]
  --eps-anchor E --eps-near E --sigma S                          [1.0, 0.5, 0.5]
  --noise random|const|none                                      [random]
  --seed S                                                       [0]
  --out DIR                                                      [runs/sample-<time>]
`;

async function main(): Promise<void> {
  const { values: v } = parseArgs({
    args: Deno.args,
    strict: true,
    options: {
      help: { type: "boolean", short: "h" },
      generator: { type: "string", default: EMBEDDED.generator },
      count: { type: "string", default: "32" },
      psi: { type: "string", default: "0.7" },
      way: { type: "string", default: "5" },
      members: { type: "string", default: "8" },
      sampler: { type: "string", default: "mix" },
      "id-layers": { type: "string" },
      "eps-anchor": { type: "string", default: "1.0" },
      "eps-near": { type: "string", default: "0.5" },
      sigma: { type: "string", default: "0.5" },
      noise: { type: "string", default: "random" },
      seed: { type: "string", default: "0" },
      out: { type: "string" },
    },
  });
  if (v.help) {
    console.log(USAGE);
    return;
  }
  await requirePath("generator", v.generator!, "file");
  const count = intFlag("count", v.count, 1, 1024);
  const psi = numberFlag("psi", v.psi, 0, 2);
  const way = intFlag("way", v.way, 1, 64);
  const members = intFlag("members", v.members, 1, 64);
  const seed = intFlag("seed", v.seed, 0, 2 ** 31);
  const noise = choiceFlag("noise", v.noise!, ["random", "const", "none"] as const);
  const gpu = await acquireGpu();
  const synthesis = await Synthesis.create(gpu, {
    generator: v.generator!,
    sampler: choiceFlag("sampler", v.sampler!, ["mix", "nomix", "zspace", "random"] as const),
    idLayers: v["id-layers"] ? rangeFlag("id-layers", v["id-layers"]) : undefined,
    epsAnchor: numberFlag("eps-anchor", v["eps-anchor"], 0, 10),
    epsNear: numberFlag("eps-near", v["eps-near"], 1e-6, 10),
    sigma: numberFlag("sigma", v.sigma, 1e-6, 10),
    psi: 1,
    noise,
    calibrationSamples: 5000,
    poolGroups: 1,
    poolMembers: members,
    poolRefresh: 0,
    way,
    shot: 1,
    query: Math.max(0, members - 1),
    imageSize: 0,
    seed,
  });
  const out = v.out ?? defaultRunDir("sample");
  await Deno.mkdir(out, { recursive: true });
  console.log(`adapter    ${gpu.description}`);
  console.log(`generator  ${v.generator} (${synthesis.describe()})`);

  const { generator, mapper } = synthesis;
  const { numWs, zDim } = generator.config;
  const idLayers = synthesis.samplerConfig.idLayers;
  const rng = new Rng(seed);
  const cols = Math.ceil(Math.sqrt(count * 2));
  const w = await mapper.map(rng.normals(count * zDim), count);
  const faces = await renderLatents(
    generator,
    mixLatents(w, w, count, numWs, [0, numWs], mapper.wAvg, psi),
    count,
    noise,
    rng,
  );
  await writeGridPng(`${out}/samples.png`, faces, Math.ceil(count / cols), cols, { scale: 2 });
  console.log(`samples    ${out}/samples.png (${count} faces, ψ ${psi})`);

  await synthesis.calibrate("runs/.cache", (line) => console.log(line));
  const classes = await synthesis.sampler!.sampleClasses(way, members, rng);
  const perClass = members * numWs * mapper.wDim;
  const ws = new Float32Array(way * perClass);
  classes.forEach((c, i) => ws.set(c.ws, i * perClass));
  const task = await renderLatents(generator, ws, way * members, noise, rng);
  await writeGridPng(`${out}/task.png`, task, way, members, { scale: 2 });
  const s = synthesis.sampler!.stats;
  console.log(
    `task       ${out}/task.png (${way} classes × ${members}; anchors accepted ` +
      `${s.anchorKept}/${s.anchorTried}, near samples ${s.nearKept}/${s.nearTried})`,
  );

  // Style mixing: cell (r, c) takes row r's identity inputs and column c's others.
  const latents = await drawMixingLatents(mapper, 6, rng);
  const grid = await renderMixingGrid(generator, mapper.wAvg, latents, idLayers, psi, rng);
  await writeGridPng(`${out}/style-mixing.png`, grid.images, grid.rows, grid.cols, { scale: 2 });
  console.log(
    `mixing     ${out}/style-mixing.png (rows: identity inputs ${idLayers[0]}-${idLayers[1] - 1} ` +
      `from the left column; columns: all other inputs from the top row)`,
  );
}

if (import.meta.main) runMain(main);
