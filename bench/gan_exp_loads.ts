/**
 * Lab: cost of one load on this adapter by address space and index kind (storage vs uniform
 * buffer vs texture; index uniform across invocations, per invocation, or a constant).
 * Prints CPU cycles (at an assumed 3 GHz) per 8-lane SIMD vec4 load. Found on llvmpipe
 * (Mesa 22.3): every storage load is a per-lane loop, ~55-60 cycles per vec4 whatever the
 * index; uniform-buffer loads ~40; textureLoad ~67; a vec4 fma chain trip ~16.
 * Usage: deno run --allow-read --allow-env bench/gan_exp_loads.ts
 */
import process from "node:process";
import { acquireGpu } from "../kernels/device.ts";
import { type Dispatch, Kernel, submit } from "../kernels/kernel.ts";
import { Tensor } from "../kernels/tensor.ts";
import src from "./gan_exp_loads.wgsl" with { type: "text" };

const names = [
  "storage vec4, lane index",
  "storage vec4, uniform index",
  "storage vec4, constant index",
  "uniform vec4, lane index",
  "uniform vec4, uniform index",
  "uniform vec4, constant index",
  "uniform vec4, loop index",
  "no load (loop + one vec4 fma)",
  "texture rgba32f, lane coords",
  "texture rgba32f, uniform coords",
];
const gpu = await acquireGpu();
const k = new Kernel("gan_exp_loads", src);
const x4 = Tensor.zeros(gpu, [4 * 4096], "x4");
const u4 = gpu.device.createBuffer({
  size: 65536,
  usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.STORAGE,
});
const out = Tensor.zeros(gpu, [1 << 14], "out");
const tex = gpu.device.createTexture({
  size: [64, 64],
  format: "rgba32float",
  usage: GPUTextureUsage.TEXTURE_BINDING,
});
const inv = 64 * 256, n = 256;
for (let rep = 0; rep < 2; rep++) {
  for (let mode = 0; mode < names.length; mode++) {
    // Bound by hand: Kernel.bind takes storage tensors only, and this also needs a uniform
    // array and a texture.
    const pipeline = k.pipeline(gpu, { MODE: mode });
    const params = gpu.device.createBuffer({
      size: 16,
      usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
    });
    gpu.device.queue.writeBuffer(params, 0, new Uint32Array([n, mode, 0, 0]));
    const d: Dispatch = {
      kernel: k,
      pipeline,
      workgroups: [256, 1, 1],
      bindGroup: gpu.device.createBindGroup({
        layout: pipeline.getBindGroupLayout(0),
        entries: [
          { binding: 0, resource: { buffer: params } },
          { binding: 1, resource: { buffer: x4.buffer } },
          { binding: 2, resource: { buffer: u4 } },
          { binding: 3, resource: { buffer: out.buffer } },
          { binding: 4, resource: tex.createView() },
        ],
      }),
    };
    submit(gpu, [d]);
    await gpu.device.queue.onSubmittedWorkDone();
    const c0 = process.cpuUsage();
    submit(gpu, [d, d, d]);
    await gpu.device.queue.onSubmittedWorkDone();
    const c = process.cpuUsage(c0);
    const cpuMs = (c.user + c.system) / 1000 / 3;
    const ops = inv * n * (mode === 7 ? 1 : 4) / 8;
    console.log(`${names[mode].padEnd(30)} ${(cpuMs * 3e6 / ops).toFixed(1)} cycles per load`);
  }
}
