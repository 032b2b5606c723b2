/**
 * Times each ProtoNet conv kernel (forward, backward-data, backward-weight) at the four Conv-4
 * layer shapes of a 5-way 1-shot 5-query episode at 64x64 (B = 30, Cout = 64), after checking
 * it against the float64 TypeScript reference, and prints ms and GFLOP/s per op. Also measures
 * the fixed cost of one (empty) dispatch on this adapter.
 * Usage: deno run --allow-read --allow-env bench/conv_kernels.ts [--reps 5] [--no-check]
 *
 * Shape legend: B batch, I input channels, O output channels, H, W spatial.
 * FLOPs count 2 per multiply-add of the dense 3x3 stencil: 2 B O I H W 9 per op.
 */
import { parseArgs } from "node:util";
import process from "node:process";
import { acquireGpu, type Gpu } from "../kernels/device.ts";
import { type Dispatch, Kernel, submit } from "../kernels/kernel.ts";
import { Tensor } from "../kernels/tensor.ts";
import type { BoundOp } from "../kernels/bound_op.ts";
import { Rng } from "../data/random.ts";
import { conv2d, conv2dBackwardData } from "../kernels/conv2d.ts";
import { conv2dBackwardWeight } from "../kernels/conv2d_backward_weight.ts";
import { conv2dBackwardRef, conv2dRef } from "../kernels/reference/protonet_ref.ts";

const { values } = parseArgs({
  options: {
    reps: { type: "string", default: "5" },
    "no-check": { type: "boolean", default: false },
  },
});
const reps = Number(values.reps);
const check = !values["no-check"];

/** [B, I, H, W] of each Conv-4 layer's input at 64x64, with O = 64. */
const SHAPES: [number, number, number, number][] = [
  [30, 3, 64, 64],
  [30, 64, 32, 32],
  [30, 64, 16, 16],
  [30, 64, 8, 8],
];
const COUT = 64;
/** Images compared for the per-image ops (forward, backward-data); the others are skipped. */
const CHECK_IMAGES = 2;

/** Largest |a - e| relative to the largest |e|; throws past `tol`. */
function _check(what: string, actual: ArrayLike<number>, expected: ArrayLike<number>, tol = 1e-4) {
  let scale = 0, worst = 0;
  for (let i = 0; i < expected.length; i++) {
    scale = Math.max(scale, Math.abs(expected[i]));
    const d = Math.abs(actual[i] - expected[i]);
    worst = Number.isNaN(d) ? Infinity : Math.max(worst, d);
  }
  const rel = worst / (scale || 1);
  if (!(rel <= tol)) throw new Error(`${what}: largest |diff| ${worst} (${rel} of max) > ${tol}`);
  return rel;
}

/**
 * Mean wall ms and process CPU ms (llvmpipe's threads run in this process, so CPU time is
 * less disturbed by other load on the machine) of one run of `dispatches`, over `n` runs
 * recorded into one pass.
 */
async function _time(
  gpu: Gpu,
  dispatches: readonly Dispatch[],
  n: number,
): Promise<{ ms: number; cpuMs: number }> {
  submit(gpu, dispatches, "warm-up");
  await gpu.device.queue.onSubmittedWorkDone();
  const all = Array.from({ length: n }, () => dispatches).flat();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  submit(gpu, all, "timed");
  await gpu.device.queue.onSubmittedWorkDone();
  const ms = (performance.now() - t0) / n;
  const cpu = process.cpuUsage(cpu0);
  return { ms, cpuMs: (cpu.user + cpu.system) / 1000 / n };
}

function _row(name: string, t: { ms: number; cpuMs: number }, flops: number, n: number) {
  const gf = flops / t.ms / 1e6;
  console.log(
    `${name.padEnd(38)} | ${t.ms.toFixed(2).padStart(8)} | ${t.cpuMs.toFixed(1).padStart(8)} | ` +
      `${gf.toFixed(1).padStart(7)} | ${String(n).padStart(10)}`,
  );
}

const gpu = await acquireGpu();
console.log(`adapter: ${gpu.description}; reps ${reps}; check ${check}`);

// Fixed cost of a dispatch: an empty kernel of one workgroup, many times in one pass.
const empty = new Kernel("bench_empty", "@compute @workgroup_size(64) fn main() {}");
const emptyDispatch = empty.bind(gpu, [], {}, [1]);
const emptyT = await _time(gpu, [emptyDispatch], 2000);
console.log(`empty dispatch: ${(emptyT.ms * 1000).toFixed(1)} us each`);

console.log(`${"op [B, I, H, W] -> O".padEnd(38)} |       ms |   cpu ms | GFLOP/s | dispatches`);
const totals = { forward: 0, "backward-data": 0, "backward-weight": 0 };
for (const [b, ci, h, w] of SHAPES) {
  const rng = new Rng(7);
  const xd = rng.normals(b * ci * h * w);
  const wd = rng.normals(COUT * ci * 9).map((v) => v * 0.1);
  const bd = rng.normals(COUT);
  const dyd = rng.normals(b * COUT * h * w);
  const x = Tensor.from(gpu, xd, [b, ci, h, w], "x");
  const wt = Tensor.from(gpu, wd, [COUT, ci, 3, 3], "w");
  const bias = Tensor.from(gpu, bd, [COUT], "bias");
  const dy = Tensor.from(gpu, dyd, [b, COUT, h, w], "dy");
  const y = Tensor.zeros(gpu, [b, COUT, h, w], "y");
  const dx = Tensor.zeros(gpu, [b, ci, h, w], "dx");
  const dw = Tensor.zeros(gpu, [COUT, ci, 3, 3], "dw");
  const db = Tensor.zeros(gpu, [COUT], "db");
  const ops: [keyof typeof totals, BoundOp][] = [
    ["forward", conv2d(gpu, x, wt, bias, y)],
    ["backward-data", conv2dBackwardData(gpu, dy, wt, dx)],
    ["backward-weight", conv2dBackwardWeight(gpu, x, dy, dw, db)],
  ];
  if (check) {
    const n = CHECK_IMAGES;
    const d = { b: n, c: ci, h, w };
    submit(gpu, ops.flatMap(([, op]) => op.dispatches), "check");
    const xs = xd.subarray(0, n * ci * h * w), dys = dyd.subarray(0, n * COUT * h * w);
    _check("forward", (await y.read()).subarray(0, dys.length), conv2dRef(xs, wd, bd, d, COUT));
    const part = conv2dBackwardRef(xs, wd, dys, d, COUT);
    _check("backward-data", (await dx.read()).subarray(0, xs.length), part.dx);
    const full = conv2dBackwardRef(xd, wd, dyd, { b, c: ci, h, w }, COUT);
    _check("backward-weight dw", await dw.read(), full.dw);
    _check("backward-weight db", await db.read(), full.db);
  }
  const flops = 2 * b * COUT * ci * h * w * 9;
  for (const [name, op] of ops) {
    const t = await _time(gpu, op.dispatches, reps);
    totals[name] += t.ms;
    _row(`${name} [${b}, ${ci}, ${h}, ${w}] -> ${COUT}`, t, flops, op.dispatches.length);
  }
  [x, wt, bias, dy, y, dx, dw, db].forEach((t) => t.destroy());
  ops.forEach(([, op]) => op.destroy());
}
console.log(
  `totals ms: ${Object.entries(totals).map(([k, v]) => `${k} ${v.toFixed(1)}`).join(", ")}`,
);
