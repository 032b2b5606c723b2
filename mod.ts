/**
 * facegen-fewshot: label-free few-shot face recognition on WebGPU.
 *
 * A StyleGAN2 generator (`gan/`) synthesises N-way K-shot face tasks; a
 * Conv-4 Prototypical Network (`protonet/`) is meta-trained on them and
 * evaluated on real faces (`data/`). All numerics run in WGSL (`kernels/`).
 *
 * @example Generate one synthetic 5-way task's latents
 * ```ts ignore
 * import {
 *   acquireGpu, calibrate, DEFAULT_SAMPLER, Generator, GeneratorMapper, loadGenerator, Rng,
 *   TaskSampler,
 * } from "./mod.ts";
 * const gpu = await acquireGpu();
 * const weights = await loadGenerator("models/stylegan2-celeba-64.safetensors");
 * const mapper = new GeneratorMapper(gpu, await Generator.create(gpu, weights, 30));
 * const cal = await calibrate(mapper, DEFAULT_SAMPLER.idLayers, 5000, new Rng(0));
 * const sampler = new TaskSampler(mapper, DEFAULT_SAMPLER, cal);
 * const classes = await sampler.sampleClasses(5, 6, new Rng(1)); // 5 classes × 6 latents
 * ```
 *
 * @module
 */
export * from "./kernels/mod.ts";
export * from "./gan/mod.ts";
export * from "./protonet/mod.ts";
export * from "./data/mod.ts";
