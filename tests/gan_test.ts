/**
 * Generator end to end: weight-file validation, golden tensors of the tiny and the default
 * 64x64 generator (mapping, truncation, synthesis in every noise mode, style mixing and every
 * act.* intermediate), random-noise determinism and allocation-free repeated calls.
 */
import { assert, assertClose, gpu, gpuAvailable, readGolden } from "./_helpers.ts";
import { Rng } from "../data/random.ts";
import {
  encodeSafeTensors,
  parseSafeTensors,
  type SafeTensors,
  WeightFileError,
} from "../data/safetensors.ts";
import { gpuMemory, Tensor } from "../kernels/tensor.ts";
import { Generator, type GeneratorWeights, loadGenerator } from "../gan/mod.ts";

const TINY = new URL("./golden/stylegan2-tiny16.weights.safetensors", import.meta.url).pathname;
const CELEBA = new URL("../models/stylegan2-celeba-64.safetensors", import.meta.url).pathname;
/** Golden tolerance: 1e-4 absolute for every tensor (images included). */
const ATOL = 1e-4;

// ---------------------------------------------------------------- weight file validation

/** Writes a modified copy of the tiny weight file to a temp file and tries to load it. */
async function loadModified(
  edit: (t: SafeTensors["tensors"], meta: Record<string, string>) => void,
  truncateBytes = 0,
): Promise<{ path: string; result: Promise<GeneratorWeights> }> {
  const file = parseSafeTensors(await Deno.readFile(TINY), TINY);
  const meta = { ...file.metadata };
  edit(file.tensors, meta);
  let bytes = encodeSafeTensors(file.tensors, meta);
  if (truncateBytes) bytes = bytes.subarray(0, bytes.length - truncateBytes);
  const path = await Deno.makeTempFile({ suffix: ".safetensors" });
  await Deno.writeFile(path, bytes);
  return { path, result: loadGenerator(path) };
}

/** Asserts loading the modified file fails with a WeightFileError matching all `parts`. */
async function expectLoadError(
  parts: (string | RegExp)[],
  edit: (t: SafeTensors["tensors"], meta: Record<string, string>) => void,
  truncateBytes = 0,
) {
  const { path, result } = await loadModified(edit, truncateBytes);
  try {
    await assert.rejects(result, (e: Error) => {
      assert.ok(e instanceof WeightFileError, `expected WeightFileError, got ${e}`);
      assert.ok(e.message.includes(path), `message should name the file: ${e.message}`);
      for (const p of parts) {
        assert.ok(
          typeof p === "string" ? e.message.includes(p) : p.test(e.message),
          `message should mention ${p}: ${e.message}`,
        );
      }
      return true;
    });
  } finally {
    await Deno.remove(path);
  }
}

Deno.test("loadGenerator reads the config from metadata and checks every tensor", async () => {
  const g = await loadGenerator(TINY);
  assert.deepStrictEqual(g.config, {
    resolution: 16,
    zDim: 32,
    wDim: 32,
    channels: { 4: 32, 8: 32, 16: 16 },
    nMapping: 2,
    numWs: 6,
    lrMul: 0.01,
    convClamp: null,
    imgChannels: 3,
  });
  assert.strictEqual(g.tensors.size, 56);
});

Deno.test("loadGenerator infers the config from shapes when metadata is absent", async () => {
  const { path, result } = await loadModified((_, meta) => {
    for (const k of Object.keys(meta)) delete meta[k];
  });
  try {
    const g = await result;
    assert.strictEqual(g.config.resolution, 16);
    assert.deepStrictEqual(g.config.channels, { 4: 32, 8: 32, 16: 16 });
    assert.strictEqual(g.config.nMapping, 2);
    assert.strictEqual(g.config.numWs, 6);
    assert.strictEqual(g.config.zDim, 32);
  } finally {
    await Deno.remove(path);
  }
});

Deno.test("loadGenerator reads conv_clamp from the individual metadata keys", async () => {
  const { path, result } = await loadModified((_, meta) => {
    delete meta.config;
    meta.conv_clamp = "256";
  });
  try {
    assert.strictEqual((await result).config.convClamp, 256);
  } finally {
    await Deno.remove(path);
  }
});

Deno.test("loadGenerator names a missing tensor", async () => {
  await expectLoadError(
    ["missing tensor synthesis.b8.conv0.affine.bias", "[32]"],
    (t) => t.delete("synthesis.b8.conv0.affine.bias"),
  );
});

Deno.test("loadGenerator names a tensor of the wrong shape with both shapes", async () => {
  await expectLoadError(["synthesis.b16.conv1.weight", "[16, 16, 3, 1]", "[16, 16, 3, 3]"], (t) => {
    const w = t.get("synthesis.b16.conv1.weight")!;
    t.set("synthesis.b16.conv1.weight", {
      ...w,
      shape: [16, 16, 3, 1],
      data: w.data.slice(0, 16 * 16 * 3),
    });
  });
});

Deno.test("loadGenerator rejects a truncated file", async () => {
  await expectLoadError([/truncated/], () => {}, 1000);
});

Deno.test("loadGenerator rejects NaN and Inf weights naming the tensor", async () => {
  await expectLoadError(["mapping.fc1.weight", "NaN"], (t) => {
    t.get("mapping.fc1.weight")!.data[5] = NaN;
  });
  await expectLoadError(["synthesis.b4.const", "Infinity"], (t) => {
    t.get("synthesis.b4.const")!.data[0] = Infinity;
  });
});

Deno.test("loadGenerator rejects an inconsistent num_ws", async () => {
  await expectLoadError(["num_ws is 7"], (_, meta) => {
    delete meta.config;
    meta.num_ws = "7";
  });
});

// ---------------------------------------------------------------- goldens

/** Runs every golden comparison for one generator; returns the largest difference per group. */
async function goldenRun(weightsPath: string, goldenName: string) {
  const g = await gpu();
  const weights = await loadGenerator(weightsPath);
  const golden = await readGolden(goldenName);
  const want = (name: string) => {
    const t = golden.tensors.get(name);
    if (!t) throw new Error(`${goldenName}: golden tensor ${name} missing`);
    return t.data;
  };
  const c = weights.config;
  const gen = await Generator.create(g, weights, 4);
  const worst: Record<string, number> = {};
  const compare = (group: string, actual: Float32Array, name: string, expected = want(name)) => {
    const d = assertClose(actual, expected, `${goldenName} ${name}`, { atol: ATOL });
    worst[group] = Math.max(worst[group] ?? 0, d);
  };
  const z = Tensor.from(g, want("z") as Float32Array, [4, c.zDim], "z");

  const w = gen.mapping(z);
  const wData = await w.read();
  compare("w", wData, "w");
  const trunc = await gen.truncate(w, 0.7).read();
  for (let l = 0; l < c.numWs; l++) {
    const perLayer = new Float32Array(4 * c.wDim);
    for (let n = 0; n < 4; n++) {
      perLayer.set(
        trunc.subarray((n * c.numWs + l) * c.wDim, (n * c.numWs + l + 1) * c.wDim),
        n * c.wDim,
      );
    }
    compare("w_trunc_psi0.7", perLayer, "w_trunc_psi0.7");
  }
  compare(
    "img",
    await gen.synthesize(gen.truncate(w, 0.7), { noise: "const" }).read(),
    "img_trunc_psi0.7_const",
  );
  compare(
    "img",
    await gen.synthesize(gen.broadcastWs(w), { noise: "none" }).read(),
    "img_noise_none",
  );

  // Mixing: rows 0, 1 take layers < split from w[0:2] and the rest from w[2:4].
  const split = want("mix_split")[0];
  const ws = await gen.broadcastWs(w).read();
  const rows = c.numWs * c.wDim;
  const swapped = new Float32Array(ws.length);
  swapped.set(ws.subarray(2 * rows), 0);
  swapped.set(ws.subarray(0, 2 * rows), 2 * rows);
  const a = Tensor.from(g, ws, [4, c.numWs, c.wDim], "mix.a");
  const b = Tensor.from(g, swapped, [4, c.numWs, c.wDim], "mix.b");
  const mixed = gen.mixWs(a, b, split);
  compare("ws_mix", (await mixed.read()).subarray(0, 2 * rows), "ws_mix");
  const mixImg = await gen.synthesize(mixed, { noise: "const" }).read();
  compare("img", mixImg.subarray(0, want("img_mix_const").length), "img_mix_const");

  // img_const last, so the activations are those of the img_const run.
  compare("img", await gen.synthesize(gen.broadcastWs(w), { noise: "const" }).read(), "img_const");
  let acts = 0;
  for (const name of golden.tensors.keys()) {
    if (!name.startsWith("act.")) continue;
    const t = gen.activations().get(name);
    if (!t) throw new Error(`generator has no activation ${name}`);
    compare("act.*", await t.read(), name);
    acts++;
  }
  assert.ok(acts >= 15, `only ${acts} act.* tensors checked`);
  console.log(
    `${goldenName}: largest |diff| ` +
      Object.entries(worst).map(([k, v]) => `${k} ${v.toExponential(2)}`).join(", "),
  );
  [z, a, b].forEach((t) => t.destroy());
  gen.destroy();
}

Deno.test({
  name: "tiny16 generator matches the goldens (w, truncation, images, mixing, act.*)",
  ignore: !gpuAvailable,
  fn: () => goldenRun(TINY, "stylegan2-tiny16.golden.safetensors"),
});

Deno.test({
  name: "celeba-64 generator matches the goldens (w, truncation, images, mixing, act.*)",
  ignore: !gpuAvailable,
  fn: () => goldenRun(CELEBA, "stylegan2-celeba64.golden.safetensors"),
});

// ---------------------------------------------------------------- behaviour

Deno.test({
  name: "random noise is deterministic for a seed, differs from const, and allocates nothing",
  ignore: !gpuAvailable,
  fn: async () => {
    const g = await gpu();
    const gen = await Generator.create(g, await loadGenerator(TINY), 3);
    const z = Tensor.from(g, new Rng(4).normals(3 * 32), [3, 32], "z");
    const ws = gen.broadcastWs(gen.mapping(z));
    const cnst = await gen.synthesize(ws, { noise: "const" }).read();
    const live = gpuMemory.liveBytes;
    const r1 = await gen.synthesize(ws, { noise: "random", rng: new Rng(11) }).read();
    const r2 = await gen.synthesize(ws, { noise: "random", rng: new Rng(11) }).read();
    const r3 = await gen.synthesize(ws, { noise: "random", rng: new Rng(12) }).read();
    assert.strictEqual(gpuMemory.liveBytes, live, "repeated calls allocated GPU memory");
    assert.deepStrictEqual(r1, r2);
    const maxDiff = (p: Float32Array, q: Float32Array) =>
      p.reduce((m, v, i) => Math.max(m, Math.abs(v - q[i])), 0);
    assert.ok(maxDiff(r1, r3) > 1e-3, "different seeds gave the same images");
    assert.ok(maxDiff(r1, cnst) > 1e-3, "random noise gave the const images");
    assert.ok(r1.every(Number.isFinite));
    const again = await gen.synthesize(ws, { noise: "const" }).read();
    assert.deepStrictEqual(again, cnst, "const noise was not restored after random");
    assert.throws(() => gen.synthesize(ws, { noise: "random" }), /rng/);
    z.destroy();
    gen.destroy();
  },
});

Deno.test({
  name: "styleInputResolutions maps style input i to 4 * 2^floor(i / 2)",
  ignore: !gpuAvailable,
  fn: async () => {
    const gen = await Generator.create(await gpu(), await loadGenerator(TINY), 1);
    assert.deepStrictEqual(gen.styleInputResolutions(), [4, 4, 8, 8, 16, 16]);
    gen.destroy();
  },
});

Deno.test({
  name: "Generator rejects inputs of the wrong shape naming the argument",
  ignore: !gpuAvailable,
  fn: async () => {
    const g = await gpu();
    const gen = await Generator.create(g, await loadGenerator(TINY), 2);
    const bad = Tensor.zeros(g, [3, 32], "bad_z");
    assert.throws(() => gen.mapping(bad), /Generator.mapping z.*\[3, 32\].*\[2, 32\]/);
    assert.throws(() => gen.synthesize(bad, { noise: "none" }), /Generator.synthesize ws/);
    bad.destroy();
    gen.destroy();
  },
});
