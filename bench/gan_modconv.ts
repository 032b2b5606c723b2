/**
 * Tile variants of the modulated convolutions (`modconv` tiles, `modconvUp` channel groups) at the
 * default generator's real layer shapes (batch 30), each checked first
 * against the float64 reference at batch 2. Variants of one layer run interleaved, `reps`
 * rounds, so a shared machine's load hits them alike. Prints wall and process CPU time and
 * GFLOP/s of the multiply-adds actually done (the up-sampling layer's transposed convolution
 * does 2 · 9 · B · O · I · H · W; its FIR epilogue is included in its time).
 * Usage: deno run --allow-read --allow-env bench/gan_modconv.ts [--reps 3]
 *   [--layers b16.conv1,b32.conv0]
 */
import { parseArgs } from "node:util";
import process from "node:process";
import { Rng } from "../data/random.ts";
import { acquireGpu, type Gpu } from "../kernels/device.ts";
import { type Dispatch, submit } from "../kernels/kernel.ts";
import { modconv, type ModConvTile } from "../kernels/modconv.ts";
import { modconvUp } from "../kernels/modconv_up.ts";
import { modconvRef } from "../kernels/reference/gan_ref.ts";
import { loadGenerator } from "../gan/weights.ts";
import { generatorLayers, type LayerTensors, layerTensors } from "./_modconv_setup.ts";

const { values } = parseArgs({
  options: {
    reps: { type: "string", default: "3" },
    layers: { type: "string", default: "b16.conv1,b32.conv0,b64.conv0,b64.conv1" },
  },
});

/** Same-size tiles tried: [rows, cols, channel groups]. */
const TILES: [1 | 2, 1 | 2, 1 | 2][] = [[1, 1, 2], [1, 2, 2], [2, 1, 2], [2, 2, 2], [1, 2, 1]];

interface Variant {
  name: string;
  bind: (t: LayerTensors) => Dispatch[];
}

function variants(gpu: Gpu, up: boolean): Variant[] {
  const opts = { strength: 0.3, clamp: null };
  if (up) {
    return ([1, 2] as const).map((og) => ({
      name: `up og${og}`,
      bind: ({ t }) => modconvUp(gpu, t, { ...opts, channelGroups: og }),
    }));
  }
  return TILES.map(([rows, cols, channelGroups]) => {
    const tile: ModConvTile = { rows, cols, channelGroups };
    return {
      name: `r${rows} c${cols} og${channelGroups}`,
      bind: ({ t }: LayerTensors) => [modconv(gpu, t, { ...opts, tile })],
    };
  });
}

const gpu = await acquireGpu();
const reps = Number(values.reps);
const weights = await loadGenerator(
  new URL("../models/stylegan2-celeba-64.safetensors", import.meta.url).pathname,
);
const LAYERS = generatorLayers(weights.config);
console.log(`${gpu.description} | reps ${reps}`);
for (const [layer, cin, cout, h, up] of LAYERS.filter(([n]) => values.layers.includes(n))) {
  const vs = variants(gpu, up);
  const small = layerTensors(gpu, new Rng(1), [2, cin, cout, h, up]);
  submit(gpu, [small.demod]);
  const want = modconvRef({
    ...small.dims,
    x: small.data.x,
    s: small.data.s,
    w: small.data.w,
    bias: small.data.bias,
    noise: small.data.noise,
    strength: 0.3,
    clamp: null,
    height: h,
    width: h,
    upFilter: up ? small.data.filter : undefined,
  });
  const check = new Map<string, string>();
  for (const v of vs) {
    small.t.out.write(new Float32Array(small.t.out.size));
    submit(gpu, v.bind(small));
    const got = await small.t.out.read();
    let worst = 0;
    for (let i = 0; i < got.length; i++) {
      const dif = Math.abs(got[i] - want[i]) / (1 + Math.abs(want[i]));
      worst = Number.isNaN(dif) ? Infinity : Math.max(worst, dif);
    }
    check.set(v.name, worst < 1e-4 ? "ok" : `BAD ${worst.toExponential(1)}`);
  }
  Object.values(small.t).forEach((t) => t.destroy());

  const big = layerTensors(gpu, new Rng(2), [30, cin, cout, h, up]);
  submit(gpu, [big.demod]);
  const gflop = 2 * 9 * 30 * cout * cin * h * h / 1e9;
  const ds = vs.map((v) => v.bind(big));
  for (const d of ds) submit(gpu, d);
  await gpu.device.queue.onSubmittedWorkDone();
  const cpu = vs.map(() => 0), wall = vs.map(() => 0);
  for (let r = 0; r < reps; r++) {
    for (let k = 0; k < ds.length; k++) {
      const c0 = process.cpuUsage(), t0 = performance.now();
      submit(gpu, ds[k]);
      await gpu.device.queue.onSubmittedWorkDone();
      const c = process.cpuUsage(c0);
      cpu[k] += (c.user + c.system) / 1000 / reps;
      wall[k] += (performance.now() - t0) / reps;
    }
  }
  vs.forEach((v, k) => {
    console.log(
      `${layer.padEnd(10)} ${v.name.padEnd(12)} ${check.get(v.name)!.padEnd(10)}` +
        ` wall ${wall[k].toFixed(1).padStart(7)} ms  cpu ${cpu[k].toFixed(1).padStart(7)} ms` +
        `  ${(gflop / (wall[k] / 1000)).toFixed(1).padStart(6)} GFLOP/s`,
    );
  });
  Object.values(big.t).forEach((t) => t.destroy());
}
