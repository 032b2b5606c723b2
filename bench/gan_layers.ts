/**
 * Per-dispatch profile of the StyleGAN2 synthesis network at a fixed batch: each dispatch of
 * one forward pass is recorded `reps` times into one pass and timed alone (wall and process
 * CPU time, which is steadier on a shared machine), and modulated convs get GFLOP/s.
 * Usage: deno run --allow-read --allow-env bench/gan_layers.ts [--batch 30] [--reps 8]
 *   [--weights models/stylegan2-celeba-64.safetensors]
 *
 * Effective FLOPs of a conv layer, as the brief and PyTorch count them: 2 per multiply-add,
 * 9 taps per output pixel, 2 · 9 · B · O · I · Ho · Wo (the up-sampling layer as a 3x3
 * convolution at the output size). The up-sampling layer's transposed convolution does a
 * quarter of that; its rate is shown on the `modconv_up` row and the layer's effective rate
 * (conv + `up_epilogue`) on the `up_epilogue` row.
 */
import { parseArgs } from "node:util";
import process from "node:process";
import { Rng } from "../data/random.ts";
import { acquireGpu } from "../kernels/device.ts";
import { submit } from "../kernels/kernel.ts";
import { blockResolutions, loadGenerator } from "../gan/mod.ts";
import { buildSynthesis } from "../gan/synthesis.ts";

const { values } = parseArgs({
  options: {
    batch: { type: "string", default: "30" },
    reps: { type: "string", default: "8" },
    weights: { type: "string", default: "models/stylegan2-celeba-64.safetensors" },
  },
});
const batch = Number(values.batch), reps = Number(values.reps);
const gpu = await acquireGpu();
const weights = await loadGenerator(values.weights);
const c = weights.config;
const net = buildSynthesis(gpu, weights, batch);
net.ws.write(new Rng(0).normals(net.ws.size));

// GFLOP of each conv layer, in dispatch order.
const convFlops: [string, number][] = [];
let cin = c.channels[4];
for (const r of blockResolutions(c)) {
  const cout = c.channels[r];
  if (r > 4) convFlops.push([`b${r}.conv0`, 2 * 9 * batch * cout * cin * r * r / 1e9]);
  convFlops.push([`b${r}.conv1`, 2 * 9 * batch * cout * cout * r * r / 1e9]);
  cin = cout;
}

submit(gpu, net.dispatches);
await gpu.device.queue.onSubmittedWorkDone();
const rows: string[] = [];
let totalMs = 0, totalCpu = 0, conv = 0, upMs = 0;
for (const d of net.dispatches) {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  submit(gpu, Array(reps).fill(d));
  await gpu.device.queue.onSubmittedWorkDone();
  const ms = (performance.now() - t0) / reps;
  const cu = process.cpuUsage(c0);
  const cpuMs = (cu.user + cu.system) / 1000 / reps;
  totalMs += ms;
  totalCpu += cpuMs;
  let name = d.kernel.label, rate = "";
  const label = d.kernel.label;
  if (label === "modconv" || label === "modconv_up" || label === "up_epilogue") {
    const [layer, gflop] = convFlops[label === "modconv_up" ? conv : conv++];
    name = `${label} ${layer}`;
    if (label === "modconv_up") upMs = ms;
    const [g, t] = label === "modconv_up"
      ? [gflop / 4, ms]
      : [gflop, label === "up_epilogue" ? ms + upMs : ms];
    rate = `${(g / (t / 1000)).toFixed(1)}`.padStart(7);
  }
  rows.push(
    `${name.padEnd(24)} ${ms.toFixed(2).padStart(8)} ${cpuMs.toFixed(2).padStart(8)} ${rate}`,
  );
}
console.log(`${gpu.description} | batch ${batch} | reps ${reps}`);
console.log(`${"dispatch".padEnd(24)} ${"ms".padStart(8)} ${"cpu ms".padStart(8)} GFLOP/s`);
for (const r of rows) console.log(r);
const gflop = convFlops.reduce((a, [, g]) => a + g, 0);
console.log(
  `total ${totalMs.toFixed(1)} ms (cpu ${totalCpu.toFixed(1)} ms), ` +
    `${(1000 * batch / totalMs).toFixed(1)} images/s if dispatched alone, ` +
    `conv ${gflop.toFixed(2)} GFLOP`,
);
