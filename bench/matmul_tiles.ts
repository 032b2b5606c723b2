/**
 * Times `kernels/matmul.ts` at one shape for several register tiles, interleaved in one process
 * (samples alternate, so load from other jobs hits every tile alike), after checking each against
 * the float64 reference on sampled rows. Process CPU ms is printed beside wall ms.
 *
 * Findings on llvmpipe (Mesa, LLVM 15, 2 cores), C = A·B at 1024³, GFLOP/s from CPU ms over
 * 2 cores: 4x4 ≈ 8, 8x8 ≈ 15, 16x16 ≈ 22-24, 24x16 / 32x16 ≈ 26-29, 32x32 ≈ 25-28. Every
 * storage load is a per-lane loop (~57 cycles per vec4 per 8 lanes), so the rate follows the FMAs
 * per loaded float (TM·TN / (TM + TN)) until accumulator spills cost as much as the loads saved.
 * Lost: running the 4 k values of one accumulator back to back, or 4x4 register blocks with
 * operand reuse (same speed: LLVM reschedules the unrolled code); any loop the compiler does not
 * unroll (the tile goes to scratch memory, 5-10x slower); textures (textureLoad of rgba32float
 * costs ~68 cycles, more than a storage vec4) and uniform buffers (~41 cycles per vec4, and a
 * 64 KiB window) as cheaper load paths.
 *
 * Usage: deno run --allow-read --allow-env bench/matmul_tiles.ts [M K N] [--nt]
 */
import process from "node:process";
import { Rng } from "../data/random.ts";
import { acquireGpu } from "../kernels/device.ts";
import { submit } from "../kernels/kernel.ts";
import { Tensor } from "../kernels/tensor.ts";
import { matmul, type MatmulTile } from "../kernels/matmul.ts";
import { matmulRef } from "../kernels/reference/matmul_ref.ts";
import { relativeDiff } from "./_case.ts";

const TILES: MatmulTile[] = [
  { rows: 8, cols: 8 },
  { rows: 16, cols: 16 },
  { rows: 32, cols: 16 },
  { rows: 32, cols: 32 },
];
const ROUNDS = 3;
const CHECK_ROWS = [0, 1, 31];

const args = Deno.args.filter((a) => a !== "--nt").map(Number);
const [m, k, n] = args.length === 3 ? args : [1024, 1024, 1024];
const transB = Deno.args.includes("--nt");
const gpu = await acquireGpu();
const rng = new Rng(1);
const av = rng.normals(m * k), bv = rng.normals(k * n);
const a = Tensor.from(gpu, av, [m, k], "a");
const b = Tensor.from(gpu, bv, transB ? [n, k] : [k, n], "b");
const c = Tensor.zeros(gpu, [m, n], "c");
const rows = CHECK_ROWS.filter((r) => r < m);
const want = matmulRef(av, bv, m, k, n, { transB, rows });
const flops = 2 * m * k * n;

const dispatches = [];
for (const tile of TILES) {
  const d = matmul(gpu, a, b, c, { transB, tile });
  submit(gpu, [d], "check");
  const got = await c.read();
  const sampled = new Float32Array(rows.length * n);
  rows.forEach((r, i) => sampled.set(got.subarray(r * n, (r + 1) * n), i * n));
  relativeDiff(`tile ${tile.rows}x${tile.cols}`, sampled, want, 1e-4);
  dispatches.push(d);
}
const wall = TILES.map(() => [] as number[]), cpu = TILES.map(() => [] as number[]);
for (let round = 0; round < ROUNDS; round++) {
  for (let i = 0; i < TILES.length; i++) {
    const c0 = process.cpuUsage(), t0 = performance.now();
    submit(gpu, [dispatches[i]], "time");
    await gpu.device.queue.onSubmittedWorkDone();
    wall[i].push(performance.now() - t0);
    const used = process.cpuUsage(c0);
    cpu[i].push((used.user + used.system) / 1000);
  }
}
const best = (xs: number[]) => Math.min(...xs);
console.log(`${m}x${k}x${n} ${transB ? "A·Bᵀ" : "A·B"}, best of ${ROUNDS}`);
console.log("tile   | wall ms | GFLOP/s | cpu ms | GFLOP/s at 2 cores busy");
TILES.forEach((t, i) => {
  const w = best(wall[i]), u = best(cpu[i]);
  console.log(
    `${`${t.rows}x${t.cols}`.padEnd(6)} | ${w.toFixed(1).padStart(7)} | ` +
      `${(flops / w / 1e6).toFixed(1).padStart(7)} | ${u.toFixed(1).padStart(6)} | ` +
      `${(flops / (u / 2) / 1e6).toFixed(1)}`,
  );
});
[a, b, c].forEach((t) => t.destroy());
