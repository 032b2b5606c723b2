/**
 * Renders CPU-side latents to CPU-side images in generator-sized batches:
 * for pictures (sample grids, style-mixing grids), not for training, where
 * images stay on the GPU (see task_pool.ts).
 */
import type { Rng } from "../data/random.ts";
import { Tensor } from "../kernels/tensor.ts";
import type { Generator, NoiseMode } from "./generator.ts";

/**
 * Synthesises `n` images from per-input latents `ws` [n, numWs, wDim].
 * @returns n images, each [3, R, R] in about [-1, 1]
 */
export async function renderLatents(
  generator: Generator,
  ws: Float32Array,
  n: number,
  noise: NoiseMode,
  rng: Rng,
): Promise<Float32Array[]> {
  const { numWs, wDim, resolution } = generator.config;
  const per = numWs * wDim;
  if (ws.length !== n * per) {
    throw new RangeError(`renderLatents: ${ws.length} latent values for ${n} images of ${per}`);
  }
  const b = generator.batch;
  const input = Tensor.zeros(generator.gpu, [b, numWs, wDim], "render ws");
  const pixels = 3 * resolution * resolution;
  const images: Float32Array[] = [];
  for (let start = 0; start < n; start += b) {
    const count = Math.min(b, n - start);
    const chunk = new Float32Array(b * per);
    chunk.set(ws.subarray(start * per, (start + count) * per));
    input.write(chunk);
    const out = await generator.synthesize(input, { noise, rng }).read();
    for (let i = 0; i < count; i++) images.push(out.slice(i * pixels, (i + 1) * pixels));
  }
  input.destroy();
  return images;
}
