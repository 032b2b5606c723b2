/**
 * `deno task experiments`: the paired test and its p-values, report tables and
 * prose, the run plan, the three-way identity split, supervised episodes, the
 * plot extensions, and a tiny end-to-end run (then a rerun that reuses it).
 */
import { assert, gpuAvailable } from "./_helpers.ts";
import { writePng } from "../data/png.ts";
import { renderLinePlot } from "../data/plot.ts";
import { erfc, pairedTest, twoSidedP } from "../protonet/paired_test.ts";
import { RealEpisodes } from "../protonet/real_episodes.ts";
import { Rng } from "../data/random.ts";
import { splitThreeWays } from "../cli/_real_data.ts";
import {
  type ExperimentConfig,
  layerSetsFor,
  planRuns,
  PRESETS,
} from "../cli/_experiments_config.ts";
import {
  compareAll,
  conclusive,
  type ExperimentResults,
  experimentTables,
  type PerEpisode,
  type RunRecord,
  seedSpread,
} from "../cli/_experiments_results.ts";
import { accuracyCell, markdownTable, renderReport } from "../cli/_experiments_report.ts";
import { comparisonCell, ppText, pText } from "../cli/_experiments_prose.ts";

const ROOT = new URL("../", import.meta.url).pathname;

Deno.test("erfc matches reference values to 1e-12 relative", () => {
  const reference: [number, number][] = [
    [0, 1],
    [0.5, 0.4795001221869535],
    [1, 0.15729920705028513],
    [2, 0.004677734981047266],
    [2.5, 0.0004069520174449590],
    [3, 2.209049699858544e-5],
    [6, 2.1519736712498913e-17],
    [-1, 1.8427007929497148],
  ];
  for (const [x, want] of reference) {
    const rel = Math.abs(erfc(x) - want) / want;
    assert.ok(rel < 1e-12, `erfc(${x}) = ${erfc(x)}, want ${want} (relative error ${rel})`);
  }
  assert.ok(Math.abs(twoSidedP(1.959964) - 0.05) < 1e-6);
});

Deno.test("pairedTest: identical scores are within noise with p = 1", () => {
  const a = [0.2, 0.4, 0.6, 0.8];
  const t = pairedTest(a, a);
  assert.deepStrictEqual([t.mean, t.ci95, t.p, t.withinNoise], [0, 0, 1, true]);
});

Deno.test("pairedTest: a consistent gain is significant, a sign flip is not", () => {
  const rng = new Rng(1);
  const b = Array.from({ length: 1000 }, () => rng.uniform());
  const up = b.map((v, i) => v + 0.04 + (i % 2 ? 0.01 : -0.01));
  const t = pairedTest(up, b);
  assert.ok(Math.abs(t.mean - 0.04) < 1e-12 && !t.withinNoise && t.p < 1e-6, JSON.stringify(t));
  const noisy = b.map((v, i) => v + (i % 2 ? 0.05 : -0.05));
  const n = pairedTest(noisy, b);
  assert.ok(n.withinNoise && n.p > 0.5, JSON.stringify(n));
  // Hand check: differences [0.1, 0.3] → mean 0.2, sd 0.1414, ci 1.96·0.1414/√2 = 0.196.
  const h = pairedTest([0.3, 0.5], [0.2, 0.2]);
  assert.ok(Math.abs(h.mean - 0.2) < 1e-12 && Math.abs(h.ci95 - 0.196) < 1e-9);
  assert.throws(() => pairedTest([1, 2], [1]), /equal, non-empty/);
});

Deno.test("report cells and tables: CI, signed pp, p-values, alignment", () => {
  assert.strictEqual(
    accuracyCell({ shot: 5, mean: 0.6172, ci95: 0.0071, episodes: 1000 }),
    "61.7 ± 0.7",
  );
  assert.strictEqual(accuracyCell(undefined), "—");
  assert.strictEqual(ppText(-0.0312, 0.0105), "−3.1 ± 1.1 pp");
  assert.strictEqual(ppText(0.0312, 0.0105), "+3.1 ± 1.1 pp");
  assert.deepStrictEqual([pText(0.0004), pText(0.0042), pText(0.412)], [
    "p < 0.001",
    "p = 0.004",
    "p = 0.41",
  ]);
  const c = { experiment: "samplers" as const, a: "x", b: "y", shot: 5, episodes: 1000 };
  assert.strictEqual(
    comparisonCell({ ...c, diff: 0.031, ci95: 0.01, p: 1e-9, withinNoise: false }),
    "**+3.1 ± 1.0** (p < 0.001)",
  );
  assert.strictEqual(
    comparisonCell({ ...c, diff: -0.004, ci95: 0.011, p: 0.47, withinNoise: true }),
    "−0.4 ± 1.1, within noise",
  );
  const small = { ...c, diff: 0.01, ci95: 0.005, p: 1e-4, withinNoise: false };
  assert.strictEqual(comparisonCell(small, 0.012), "**+1.0 ± 0.5** (p < 0.001) ‡");
  const seeds = { ...c, experiment: "seeds" as const, diff: -0.012, ci95: 0.006, p: 1e-4 };
  const all = [{ ...seeds, withinNoise: false }, small, { ...small, diff: 0.02 }];
  assert.strictEqual(seedSpread(all, 5), 0.012);
  assert.deepStrictEqual([conclusive(all[1], all), conclusive(all[2], all)], [false, true]);
  assert.strictEqual(seedSpread(all, 1), undefined);
  const table = markdownTable(["method", "K = 1"], [["a|b", "61.7 ± 0.7"], ["c", "—"]]);
  assert.strictEqual(
    table,
    "| method | K = 1 |\n| :--- | ---: |\n| a\\|b | 61.7 ± 0.7 |\n| c | — |",
  );
});

function config(over: Partial<ExperimentConfig> = {}): ExperimentConfig {
  return {
    ...PRESETS.quick,
    preset: "quick",
    generator: "g",
    trainFraction: 0.35,
    valFraction: 0.2,
    input: "auto",
    way: 5,
    query: 5,
    kTest: [1, 2, 4, 5],
    kTrain: [1, 2, 5],
    samplers: ["mix", "nomix", "zspace", "random"],
    supervised: true,
    valShot: 5,
    lr: 1e-3,
    epsAnchor: 1,
    epsNear: 0.5,
    sigma: 0.5,
    psi: 1,
    noise: "random",
    seed: 0,
    out: "out",
    ...over,
  };
}

Deno.test("planRuns trains each distinct run once, the method first", () => {
  const x = config();
  const sets = layerSetsFor(x, 10, [3, 7]);
  assert.deepStrictEqual(sets.map((s) => s.layers), [[0, 4], [3, 7], [6, 10]]);
  const plan = planRuns(x, sets, [3, 7]);
  assert.deepStrictEqual(plan.map((p) => p.name), [
    "mix-k1-L3-6",
    "supervised-k1",
    "mix-k1-L3-6-s1000",
    "nomix-k1-L3-6",
    "zspace-k1-L3-6",
    "random-k1-L3-6",
    "mix-k2-L3-6",
    "mix-k5-L3-6",
    "mix-k1-L0-3",
    "mix-k1-L6-9",
  ]);
  assert.deepStrictEqual(plan[0].experiments, ["kTest", "seeds", "samplers", "kTrain", "layers"]);
  assert.deepStrictEqual([plan[0].seed, plan[2].seed], [0, 1000]);
  const lean = planRuns(
    config({ supervised: false, samplers: ["mix"], kTrain: [1], repeats: 1 }),
    [],
    [3, 7],
  );
  assert.deepStrictEqual(lean.map((p) => p.name), ["mix-k1-L3-6"]);
});

Deno.test("splitThreeWays gives disjoint training, validation and test identities", () => {
  const ids = Array.from({ length: 100 }, (_, i) => `person${i}`);
  const s = splitThreeWays(ids, 0.2, 0.35, 7, "src");
  assert.deepStrictEqual([s.train!.length, s.validation.length, s.test.length], [35, 20, 45]);
  const all = new Set([...s.train!, ...s.validation, ...s.test]);
  assert.strictEqual(all.size, 100);
  assert.deepStrictEqual(splitThreeWays(ids, 0.2, 0.35, 7, "src"), s, "seeded");
  assert.throws(() => splitThreeWays(ids, 0.5, 0.5, 7, "src"), /no test identities/);
});

Deno.test("RealEpisodes lays out support class-major, then query class-major", () => {
  // Image value = 100·identity + index, so every slot says where it came from.
  const images: Float32Array[] = [];
  const ranges = new Map<string, { start: number; count: number }>();
  for (let id = 0; id < 4; id++) {
    ranges.set(`p${id}`, { start: images.length, count: 5 });
    for (let i = 0; i < 5; i++) images.push(new Float32Array(3 * 16 * 16).fill(100 * id + i));
  }
  const source = new RealEpisodes({ images, ranges }, 3, 2, 1);
  const flat = source.episodeImages(new Rng(3));
  const at = (slot: number) => flat[slot * 3 * 16 * 16];
  const identity = (slot: number) => Math.floor(at(slot) / 100);
  for (let c = 0; c < 3; c++) {
    assert.strictEqual(identity(2 * c), identity(2 * c + 1), "support pair of one identity");
    assert.strictEqual(identity(6 + c), identity(2 * c), "query follows its class");
    assert.notStrictEqual(at(2 * c), at(2 * c + 1), "distinct support images");
  }
  assert.strictEqual(new Set([0, 2, 4].map(identity)).size, 3, "three distinct identities");
  assert.throws(() => new RealEpisodes({ images, ranges }, 5, 2, 1), /5-way episodes need 5/);
});

Deno.test("line plots draw error bars and a labelled marker line", () => {
  const img = renderLinePlot(
    [{ name: "a", xs: [0, 1, 2], ys: [40, 50, 45], errors: [2, 2, 2], color: "#0000ff" }],
    {
      title: "t",
      xLabel: "x",
      yLabel: "y",
      markers: [{ x: 1, label: "EARLY STOP", color: "#ff0000" }],
    },
  );
  let red = 0;
  for (let i = 0; i < img.pixels.length; i += 3) {
    if (img.pixels[i] === 255 && img.pixels[i + 1] === 0 && img.pixels[i + 2] === 0) red++;
  }
  assert.ok(red > 100, `marker pixels ${red}`);
  assert.throws(
    () =>
      renderLinePlot([{ name: "a", xs: [0], ys: [1], errors: [] }], {
        title: "t",
        xLabel: "x",
        yLabel: "y",
      }),
    /1 xs but 0 errors/,
  );
});

Deno.test("a partial report marks missing runs and still compares finished ones", () => {
  const x = config({
    kTest: [1, 5],
    samplers: ["mix", "random"],
    kTrain: [1],
    supervised: false,
    repeats: 1,
  });
  const plan = planRuns(x, [], [3, 7]);
  const shots = (m: number) =>
    [1, 5].map((shot) => ({ shot, mean: m + shot / 100, ci95: 0.01, episodes: 4 }));
  const runs = new Map<string, RunRecord>([
    [plan[0].name, { ...plan[0], status: "done", test: shots(0.5), episodesTrained: 10 }],
    [plan[1].name, { ...plan[1], status: "pending" }],
  ]);
  const baselines = [{ id: "random-init", label: "random-init Conv-4", test: shots(0.3) }];
  const per: PerEpisode = new Map([
    [plan[0].name, new Map([[1, [0.6, 0.4, 0.6, 0.8]], [5, [0.6, 0.6, 0.8, 0.6]]])],
    ["random-init", new Map([[1, [0.2, 0.4, 0.2, 0.4]], [5, [0.6, 0.6, 0.8, 0.6]]])],
  ]);
  const tables = experimentTables(plan, runs, baselines, [3, 7]);
  const comparisons = compareAll(tables, per);
  assert.deepStrictEqual(
    comparisons.map((c) => [c.a, c.b, c.shot, c.withinNoise]),
    [[plan[0].name, "random-init", 1, false], [plan[0].name, "random-init", 5, true]],
  );
  const results: ExperimentResults = {
    format: "facegen-experiments/v1",
    status: "partial",
    preset: "quick",
    settings: { valEpisodes: 10, patience: 3 },
    adapter: "test",
    softwareAdapter: true,
    data: {
      description: "d",
      inputMode: "gray",
      identities: { train: 0, validation: 3, test: 6 },
      splitFile: "split.json",
      warnings: 0,
    },
    generator: { path: "g", description: "gen", numWs: 10, defaultLayers: [3, 7] },
    evaluation: { way: 5, query: 5, shots: [1, 5], episodes: 4, seed: 2, valShot: 5, bn: "bn" },
    runs: [...runs.values()],
    baselines,
    experiments: tables,
    comparisons,
    figures: [],
    sessions: [{ started: "2026-01-01T00:00:00Z", seconds: 60 }],
    wallSeconds: 60,
    runSeconds: 50,
  };
  const md = renderReport(results);
  assert.match(md, /\*\*Partial report:\*\* 1 of 2 training runs/);
  assert.match(md, /\| random classes \| — \| — \|/);
  assert.match(
    md,
    /\| style mixing \(label-free, ours\) \| generated faces, no labels \| 51\.0 ± 1\.0/,
  );
  assert.match(md, /within noise of the same Conv-4 left at its random init/);
});

/** A folder-per-identity set of small noisy RGB faces. */
async function makeFolders(people: number, images: number): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "facegen-exp-data-" });
  const rng = new Rng(5);
  for (let p = 0; p < people; p++) {
    await Deno.mkdir(`${dir}/person${p}`);
    const base = Array.from({ length: 3 }, () => 40 + rng.int(170));
    for (let i = 0; i < images; i++) {
      const px = new Uint8Array(16 * 16 * 3).map((_, j) => base[j % 3] + rng.int(40));
      await writePng(`${dir}/person${p}/${i}.png`, {
        width: 16,
        height: 16,
        channels: 3,
        pixels: px,
      });
    }
  }
  return dir;
}

async function experiments(args: string[]): Promise<{ code: number; out: string }> {
  const cmd = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--no-check",
      "--allow-read",
      "--allow-write",
      "--allow-env",
      "cli/experiments.ts",
      ...args,
    ],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
  });
  const r = await cmd.output();
  const text = new TextDecoder().decode(r.stdout) + new TextDecoder().decode(r.stderr);
  return { code: r.code, out: text };
}

Deno.test({
  name: "experiments writes report, results and figures end to end, and a rerun reuses runs",
  ignore: !gpuAvailable,
  fn: async () => {
    const data = await makeFolders(12, 6);
    const parent = await Deno.makeTempDir({ prefix: "facegen-exp-" });
    const out = `${parent}/run`;
    const args = [
      "--quick",
      "--data",
      data,
      "--way",
      "2",
      "--query",
      "2",
      "--val-shot",
      "2",
      "--k-test",
      "1,2",
      "--k-train",
      "1,2",
      "--samplers",
      "mix,random",
      "--layer-sets",
      "3-6,6-9",
      "--image-size",
      "16",
      "--episodes",
      "2",
      "--val-every",
      "1",
      "--val-episodes",
      "5",
      "--test-episodes",
      "10",
      "--pool-groups",
      "1",
      "--pool-members",
      "4",
      "--pool-refresh",
      "0",
      "--calibration-samples",
      "50",
      "--log-every",
      "1",
      "--out",
      out,
    ];
    const first = await experiments(args);
    assert.strictEqual(first.code, 0, first.out);
    const r = JSON.parse(await Deno.readTextFile(`${out}/results.json`)) as ExperimentResults;
    assert.strictEqual(r.format, "facegen-experiments/v1");
    assert.strictEqual(r.status, "complete");
    assert.deepStrictEqual(r.runs.map((x) => x.name), [
      "mix-k1-L3-6",
      "supervised-k1",
      "mix-k1-L3-6-s1000",
      "random-k1-L3-6",
      "mix-k2-L3-6",
      "mix-k1-L6-9",
    ]);
    assert.deepStrictEqual(r.experiments.map((t) => t.id), [
      "kTest",
      "kTrain",
      "samplers",
      "layers",
      "seeds",
    ]);
    for (const run of r.runs) {
      assert.strictEqual(run.status, "done", run.name);
      assert.deepStrictEqual(run.test!.map((t) => [t.shot, t.episodes]), [[1, 10], [2, 10]]);
    }
    assert.deepStrictEqual(r.baselines.map((b) => b.id), ["random-init", "pixels"]);
    assert.ok(r.comparisons.length >= 10 && r.comparisons.every((c) => c.episodes === 10));
    assert.ok(r.validation && r.validation.curves.length === 2 * 3, "curves at K = 1, 2");
    const ids = r.data.identities;
    assert.ok(ids.train > 0 && ids.validation >= 2 && ids.test >= 2, JSON.stringify(ids));
    const report = await Deno.readTextFile(`${out}/report.md`);
    const linked = [...report.matchAll(/\]\(([^)]+\.png)\)/g)].map((m) => m[1]);
    for (const file of ["fig-k-test.png", "fig-k-train.png", "fig-validation.png"]) {
      assert.ok(linked.includes(file), `report links ${file}`);
    }
    assert.ok(
      linked.some((f) => f.startsWith("style-mixing-")) &&
        linked.some((f) => f.startsWith("task-")),
    );
    for (const file of linked) {
      const bytes = await Deno.readFile(`${out}/${file}`);
      assert.deepStrictEqual([...bytes.subarray(1, 4)], [80, 78, 71], `${file} is a PNG`);
    }

    const again = await experiments(args);
    assert.strictEqual(again.code, 0, again.out);
    assert.strictEqual(again.out.match(/finished earlier, reused/g)?.length, 6, again.out);
    const other = await experiments([
      ...args.filter((a) => a !== "--quick"),
      "--quick",
      "--seed",
      "1",
    ]);
    assert.notStrictEqual(other.code, 0);
    assert.match(other.out, /other settings \(seed\)/);
    await Deno.remove(data, { recursive: true });
    await Deno.remove(parent, { recursive: true });
  },
});
