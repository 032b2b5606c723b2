/**
 * Benchmark of the Conv-4 ProtoNet training step and eval-mode forward on this adapter:
 * episodes/s for 5-way 1-shot 5-query (30 images) at 64x64 and 32x32, forward images/s.
 * Usage: deno run --allow-read --allow-env bench/protonet_step.ts [--steps 5]
 */
import { parseArgs } from "node:util";
import process from "node:process";
import { acquireGpu } from "../kernels/device.ts";
import { Tensor } from "../kernels/tensor.ts";
import { Rng } from "../data/random.ts";
import { Conv4 } from "../protonet/mod.ts";

const { values } = parseArgs({ options: { steps: { type: "string", default: "5" } } });
const steps = Number(values.steps);
const gpu = await acquireGpu();
const [nWay, kShot, nQuery] = [5, 1, 5];
const batch = nWay * (kShot + nQuery);
console.log(`adapter: ${gpu.description}; episode ${nWay}-way ${kShot}-shot ${nQuery}-query`);
// CPU ms (this process; llvmpipe's threads run in it) shows the work when other load on the
// machine inflates wall time.
console.log(
  "size | train ms/episode | train cpu ms | episodes/s | eval ms/batch | eval images/s | " +
    "final loss",
);
for (const size of [64, 32]) {
  const rng = new Rng(1);
  const model = new Conv4(gpu, rng, { batch, imageSize: size });
  const x = Tensor.from(gpu, rng.normals(batch * 3 * size * size), model.input.shape, "bench.x");
  let last = await model.trainStep(x, nWay, kShot, nQuery); // warm-up: compiles pipelines
  const cpu0 = process.cpuUsage();
  let t0 = performance.now();
  for (let i = 0; i < steps; i++) last = await model.trainStep(x, nWay, kShot, nQuery);
  const trainMs = (performance.now() - t0) / steps;
  const cpu = process.cpuUsage(cpu0);
  const trainCpuMs = (cpu.user + cpu.system) / 1000 / steps;
  await model.forward(x, "eval").read();
  t0 = performance.now();
  for (let i = 0; i < steps; i++) model.forward(x, "eval");
  await model.embeddings.read();
  const evalMs = (performance.now() - t0) / steps;
  console.log(
    `${String(size).padStart(4)} | ${trainMs.toFixed(1).padStart(16)} | ` +
      `${trainCpuMs.toFixed(1).padStart(12)} | ` +
      `${(1000 / trainMs).toFixed(2).padStart(10)} | ${evalMs.toFixed(1).padStart(13)} | ` +
      `${(batch * 1000 / evalMs).toFixed(0).padStart(13)} | ${last.loss.toFixed(4)}`,
  );
  x.destroy();
  model.destroy();
}
