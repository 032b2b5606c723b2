/** The StyleGAN2 generator: weight loading and the WebGPU forward pass. */
export {
  blockResolutions,
  expectedTensors,
  type GeneratorConfig,
  generatorFromSafeTensors,
  type GeneratorWeights,
  loadGenerator,
  type WeightTensor,
} from "./weights.ts";
export { Generator, type NoiseMode, type SynthesisOptions } from "./generator.ts";
export * from "./sampler.ts";
export { GeneratorMapper, type PoolConfig, TaskPool } from "./task_pool.ts";
export { renderLatents } from "./render.ts";
export {
  drawMixingLatents,
  type MixingGrid,
  type MixingLatents,
  renderMixingGrid,
} from "./style_mixing.ts";
