/**
 * Times the StyleGAN2 generator (mapping + synthesis) at a fixed batch and prints images/s.
 * Usage: deno run --allow-read --allow-env bench/generator_bench.ts [--batch 30] [--iters 5]
 *   [--weights models/stylegan2-celeba-64.safetensors]
 */
import { parseArgs } from "node:util";
import { Rng } from "../data/random.ts";
import { acquireGpu } from "../kernels/device.ts";
import { Tensor } from "../kernels/tensor.ts";
import { Generator, loadGenerator } from "../gan/mod.ts";

if (import.meta.main) {
  const { values } = parseArgs({
    options: {
      batch: { type: "string", default: "30" },
      iters: { type: "string", default: "5" },
      weights: { type: "string", default: "models/stylegan2-celeba-64.safetensors" },
    },
  });
  const batch = Number(values.batch), iters = Number(values.iters);
  const gpu = await acquireGpu();
  const weights = await loadGenerator(values.weights);
  const gen = await Generator.create(gpu, weights, batch);
  const rng = new Rng(0);
  const z = Tensor.from(
    gpu,
    rng.normals(batch * weights.config.zDim),
    [batch, weights.config.zDim],
    "z",
  );
  const run = async () => {
    const ws = gen.truncate(gen.mapping(z), 0.7);
    await gen.synthesize(ws, { noise: "random", rng }).read();
  };
  await run();
  const t0 = performance.now();
  for (let i = 0; i < iters; i++) await run();
  const ms = (performance.now() - t0) / iters;
  console.log(
    `${gpu.description} | ${values.weights} | batch ${batch} | ${ms.toFixed(1)} ms/batch | ` +
      `${(1000 * batch / ms).toFixed(1)} images/s`,
  );
  gen.destroy();
}
