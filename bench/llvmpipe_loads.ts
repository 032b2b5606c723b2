/**
 * Micro-benchmark of what a storage-buffer load costs on this adapter, which decides how conv
 * kernels are tiled: per-lane vs workgroup-uniform addresses, f32 vs vec4f, against vec4 FMAs.
 * On llvmpipe (Mesa 22.3) a uniform address costs the same as a per-lane one (no scalar fast
 * path), and a vec4f load costs about 2x an f32 load for 4x the data, so kernels load vec4s
 * and reuse every loaded value from registers as often as they can.
 * Usage: deno run --allow-read --allow-env bench/llvmpipe_loads.ts
 */
import process from "node:process";
import { acquireGpu } from "../kernels/device.ts";
import { Kernel, submit } from "../kernels/kernel.ts";
import { Tensor } from "../kernels/tensor.ts";

// MODE 0..3: 16 loads per iteration (lane f32, uniform f32, lane vec4f, uniform vec4f);
// MODE 4: 16 x 4 independent vec4 FMAs per iteration.
const SRC = `
struct Params { n: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>; // [65536]
@group(0) @binding(2) var<storage, read> x4: array<vec4f>; // [16384]
@group(0) @binding(3) var<storage, read_write> out: array<f32>; // [invocations]
override MODE: u32 = 0u;
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(workgroup_id) wid: vec3u) {
  var s = array<vec4f, 4>();
  let a = vec4f(f32(gid.x) * 1e-9);
  for (var it = 0u; it < p.n; it++) {
    for (var k = 0u; k < 16u; k++) {
      if (MODE == 0u) { s[0] += vec4f(x[(gid.x * 16u + k + it) & 65535u]); }
      if (MODE == 1u) { s[0] += vec4f(x[(wid.x * 16u + k + it) & 65535u]); }
      if (MODE == 2u) { s[0] += x4[(gid.x * 16u + k + it) & 16383u]; }
      if (MODE == 3u) { s[0] += x4[(wid.x * 16u + k + it) & 16383u]; }
      if (MODE == 4u) { for (var m = 0u; m < 4u; m++) { s[m] = fma(a, s[m], a); } }
    }
  }
  let t = s[0] + s[1] + s[2] + s[3];
  out[gid.x] = t.x + t.y + t.z + t.w;
}`;
const NAMES = ["f32 per-lane", "f32 uniform", "vec4f per-lane", "vec4f uniform", "4 vec4 FMAs"];
const WORKGROUPS = 256, ITERS = 64, RUNS = 3;

const gpu = await acquireGpu();
const kernel = new Kernel("bench_loads", SRC);
const x = Tensor.zeros(gpu, [65536], "x"), x4 = Tensor.zeros(gpu, [65536], "x4");
const out = Tensor.zeros(gpu, [WORKGROUPS * 64], "out");
console.log(`adapter: ${gpu.description}`);
console.log("op (per 8-lane SIMD step) | cpu ns | cycles at 3 GHz");
for (let mode = 0; mode < NAMES.length; mode++) {
  const d = kernel.bind(gpu, [x, x4, out], { n: ITERS }, [WORKGROUPS], { MODE: mode });
  submit(gpu, [d]);
  await gpu.device.queue.onSubmittedWorkDone();
  const c0 = process.cpuUsage();
  submit(gpu, Array.from({ length: RUNS }, () => d));
  await gpu.device.queue.onSubmittedWorkDone();
  const c = process.cpuUsage(c0);
  const steps = (WORKGROUPS * 64 / 8) * ITERS * 16 * RUNS;
  const ns = (c.user + c.system) * 1000 / steps;
  console.log(`${NAMES[mode].padEnd(25)} | ${ns.toFixed(1).padStart(6)} | ${(ns * 3).toFixed(0)}`);
}
[x, x4, out].forEach((t) => t.destroy());
