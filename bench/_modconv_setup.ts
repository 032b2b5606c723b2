/**
 * Shared setup of the modulated-conv benchmarks: the generator's conv layers from its config,
 * and one layer's tensors filled with seeded random data.
 *
 * Shape legend: B batch, I input channels, O output channels, H input side (square).
 */
import type { Rng } from "../data/random.ts";
import type { Gpu } from "../kernels/device.ts";
import type { Dispatch } from "../kernels/kernel.ts";
import { Tensor } from "../kernels/tensor.ts";
import { demod, squaredTapSums } from "../kernels/demod.ts";
import { packConv3x3 } from "../kernels/modconv.ts";
import { upFilterTaps } from "../kernels/up_epilogue.ts";
import { blockResolutions, type GeneratorConfig } from "../gan/weights.ts";

/** One conv layer of the synthesis network: [name, I, O, input side H, up-sampling]. */
export type GeneratorLayer = [name: string, cin: number, cout: number, h: number, up: boolean];

/** The synthesis network's modulated conv layers in order (b4.conv1, b8.conv0, ...). */
export function generatorLayers(c: GeneratorConfig): GeneratorLayer[] {
  const out: GeneratorLayer[] = [];
  let cin = c.channels[4];
  for (const r of blockResolutions(c)) {
    const cout = c.channels[r];
    if (r > 4) out.push([`b${r}.conv0`, cin, cout, r / 2, true]);
    out.push([`b${r}.conv1`, cout, cout, r, false]);
    cin = cout;
  }
  return out;
}

/** Tensors, their CPU data and the demodulation dispatch of one layer (`layerTensors`). */
export type LayerTensors = ReturnType<typeof layerTensors>;

/**
 * Allocates one layer's tensors at batch B with random inputs; `demod` is bound (d [B, O]
 * from the styles) but not run. Noise strength 0.3 is the callers' convention.
 * @param dims [B, I, O, H, up]
 */
export function layerTensors(
  gpu: Gpu,
  rng: Rng,
  [batch, cin, cout, h, up]: [number, number, number, number, boolean],
) {
  const ho = up ? 2 * h : h;
  const data = {
    x: rng.normals(batch * cin * h * h),
    s: rng.normals(batch * cin),
    w: rng.normals(cout * cin * 9),
    bias: rng.normals(cout),
    noise: rng.normals(batch * ho * ho),
    filter: new Float32Array(16).map(() => 0.05 + 0.1 * rng.uniform()),
  };
  const packed = packConv3x3(data.w, cout, cin);
  const t = {
    x: Tensor.from(gpu, data.x, [batch, cin, h, h], "x"),
    styles: Tensor.from(gpu, data.s, [batch, cin], "s"),
    weight: Tensor.from(gpu, packed, [packed.length], "w"),
    wsq: Tensor.from(gpu, squaredTapSums(data.w, cout, cin), [cout, cin], "wsq"),
    demod: Tensor.zeros(gpu, [batch, cout], "d"),
    bias: Tensor.from(gpu, data.bias, [cout], "bias"),
    noise: Tensor.from(gpu, data.noise, [batch, ho, ho], "noise"),
    taps: Tensor.from(gpu, upFilterTaps(data.filter), [4, 4], "taps"),
    sums: Tensor.zeros(gpu, [batch, cout, ho + 4, ho + 4], "sums"),
    out: Tensor.zeros(gpu, [batch, cout, ho, ho], "out"),
  };
  const demodDispatch: Dispatch = demod(gpu, t.styles, t.wsq, t.demod);
  return { t, data, dims: { batch, cin, cout, h, up }, demod: demodDispatch };
}
