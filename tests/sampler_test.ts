/**
 * Task-sampler invariants on a CPU stand-in for the mapping network, and the
 * GPU task pool on the tiny golden generator: distinct, well-separated
 * classes, near samples within threshold, identity inputs taken from the near
 * sample, episodes assembled in the ProtoNet's order.
 */
import { assert, gpu, gpuAvailable } from "./_helpers.ts";
import { Rng } from "../data/random.ts";
import {
  calibrate,
  DEFAULT_SAMPLER,
  euclidean,
  type LatentMapper,
  layersForResolutions,
  SamplingError,
  TaskSampler,
} from "../gan/sampler.ts";
import { Generator } from "../gan/generator.ts";
import { loadGenerator } from "../gan/weights.ts";
import { TaskPool } from "../gan/task_pool.ts";
import { Tensor } from "../kernels/tensor.ts";

/** w = tanh(A z) with a fixed random A: smooth, like a mapping network. */
function fakeMapper(zDim = 8, wDim = 6, numWs = 10): LatentMapper {
  const a = new Rng(99).normals(wDim * zDim).map((v) => v / Math.sqrt(zDim));
  return {
    zDim,
    wDim,
    numWs,
    wAvg: new Float32Array(wDim),
    map: (z, n) => {
      const w = new Float32Array(n * wDim);
      for (let i = 0; i < n; i++) {
        for (let o = 0; o < wDim; o++) {
          let s = 0;
          for (let j = 0; j < zDim; j++) s += a[o * zDim + j] * z[i * zDim + j];
          w[i * wDim + o] = Math.tanh(s);
        }
      }
      return Promise.resolve(w);
    },
  };
}

Deno.test("sampled classes are far apart, members near, identity inputs mixed in", async () => {
  const mapper = fakeMapper();
  const config = { ...DEFAULT_SAMPLER, idLayers: [3, 7] as [number, number] };
  const cal = await calibrate(mapper, config.idLayers, 500, new Rng(1));
  const sampler = new TaskSampler(mapper, config, cal);
  const classes = await sampler.sampleClasses(5, 6, new Rng(2));
  assert.strictEqual(classes.length, 5);
  const scale = Math.sqrt(4);
  for (let i = 0; i < 5; i++) {
    for (let j = i + 1; j < 5; j++) {
      const d = scale * euclidean(classes[i].anchorW, classes[j].anchorW);
      assert.ok(d > config.epsAnchor * cal.medianW, `anchors ${i},${j} at ${d}`);
    }
  }
  const { wDim, numWs } = mapper;
  for (const c of classes) {
    assert.strictEqual(c.ws.length, 6 * numWs * wDim);
    for (let m = 0; m < 6; m++) {
      const at = (l: number) => c.ws.subarray((m * numWs + l) * wDim, (m * numWs + l + 1) * wDim);
      // Identity inputs all hold the same near-sample w, within the near threshold.
      assert.ok(scale * euclidean(at(3), c.anchorW) < config.epsNear * cal.medianW);
      assert.deepStrictEqual([...at(3)], [...at(6)]);
      // Other inputs come from an independent random latent.
      assert.notDeepStrictEqual([...at(0)], [...at(3)]);
      assert.deepStrictEqual([...at(0)], [...at(9)]);
    }
    // Members are distinct images.
    const first = (m: number) => [...c.ws.subarray(m * numWs * wDim, (m * numWs + 1) * wDim)];
    assert.notDeepStrictEqual(first(0), first(1));
  }
  assert.ok(sampler.stats.nearKept > 0 && sampler.stats.nearKept <= sampler.stats.nearTried);
});

Deno.test("the no-mixing sampler feeds the near sample to every style input", async () => {
  const mapper = fakeMapper();
  const config = { ...DEFAULT_SAMPLER, kind: "nomix" as const };
  const cal = await calibrate(mapper, config.idLayers, 300, new Rng(1));
  const [c] = await new TaskSampler(mapper, config, cal).sampleClasses(2, 3, new Rng(3));
  const w = mapper.wDim;
  assert.deepStrictEqual([...c.ws.subarray(0, w)], [...c.ws.subarray(9 * w, 10 * w)]);
});

Deno.test("an impossible near threshold fails with a message naming it", async () => {
  const mapper = fakeMapper();
  const config = {
    ...DEFAULT_SAMPLER,
    epsNear: 1e-6,
    sigmaMin: 0.5,
    maxTriesPerSample: 5,
  };
  const cal = await calibrate(mapper, config.idLayers, 300, new Rng(1));
  const sampler = new TaskSampler(mapper, config, cal);
  await assert.rejects(sampler.sampleClasses(2, 4, new Rng(4)), (e: Error) => {
    assert.ok(e instanceof SamplingError);
    assert.match(e.message, /eps_near 0\.000001/);
    return true;
  });
});

Deno.test("identity layers can be chosen by resolution", () => {
  assert.deepStrictEqual(layersForResolutions(10, 16, 32), [4, 8]);
  assert.deepStrictEqual(layersForResolutions(18, 16, 64), [4, 10]);
  assert.throws(() => layersForResolutions(10, 128, 256), /no style input/);
});

Deno.test({
  name: "the task pool assembles support then query, class-major, from distinct members",
  ignore: !gpuAvailable,
  fn: async () => {
    const g = await gpu();
    const weights = await loadGenerator(
      new URL("./golden/stylegan2-tiny16.weights.safetensors", import.meta.url).pathname,
    );
    const generator = await Generator.create(g, weights, 8);
    const { GeneratorMapper } = await import("../gan/task_pool.ts");
    const mapper = new GeneratorMapper(g, generator);
    const config = { ...DEFAULT_SAMPLER, idLayers: [2, 4] as [number, number] };
    const cal = await calibrate(mapper, config.idLayers, 200, new Rng(1));
    const sampler = new TaskSampler(mapper, config, cal);
    const [n, k, q, members] = [3, 1, 2, 4];
    const pool = await TaskPool.create(g, generator, sampler, {
      groups: 2,
      members,
      refreshEvery: 1,
    }, { nWay: n, imageSize: 16, gray: false, noise: "random", rng: new Rng(5) });
    const batch = Tensor.zeros(g, [n * (k + q), 3, 16, 16], "episode");
    pool.assembleEpisode(batch, k, q, new Rng(6));
    const images = await batch.read();
    const all = await pool.pool.read();
    const per = 3 * 16 * 16;
    // Find each batch image in the pool: it must be a pool image, all distinct.
    const sourceOf = (b: number) => {
      const img = images.subarray(b * per, (b + 1) * per);
      for (let s = 0; s < all.length / per; s++) {
        if (all.subarray(s * per, (s + 1) * per).every((v, i) => v === img[i])) return s;
      }
      return -1;
    };
    const sources = Array.from({ length: n * (k + q) }, (_, b) => sourceOf(b));
    assert.ok(sources.every((s) => s >= 0), `every image comes from the pool: ${sources}`);
    assert.strictEqual(new Set(sources).size, sources.length, "images are distinct");
    const classOf = (s: number) => Math.floor(s / members);
    const group = Math.floor(sources[0] / (n * members));
    assert.ok(sources.every((s) => Math.floor(s / (n * members)) === group), "one group");
    // Label of support image c is c; query images of label c follow in class-major order.
    for (let c = 0; c < n; c++) {
      for (let j = 0; j < q; j++) {
        assert.strictEqual(classOf(sources[n * k + c * q + j]), classOf(sources[c]));
      }
    }
    assert.strictEqual(new Set(sources.slice(0, n).map(classOf)).size, n, "N distinct classes");
    assert.ok(await pool.maybeRefresh(1, new Rng(7)));
    batch.destroy();
    pool.destroy();
    generator.destroy();
  },
});
