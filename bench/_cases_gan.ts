/**
 * Benchmark cases of the generator kernels at the default generator's shapes (batch 30): each
 * modulated conv layer with its demodulation (same size: `demod` + `modconv`; up-sampling:
 * `demod` + `modconv_up` + `up_epilogue`), the mapping MLP at batch 256 with the file's
 * weights, and a 1024³ `matmul` (C = A · B, A [M, K] and B [K, N] row-major, no epilogue).
 *
 * Shape legend: B batch, I input channels, O output channels, H input side,
 * D latent width.
 * FLOPs: same-size conv 2 · 9 · B · O · I · H²; up-sampling layer
 * 2 · 9 · B · O · I · H² for its transposed conv plus 2 · 16 · B · O · (2H)²
 * for the 4x4 filter (the peer counts alike).
 */
import { Rng } from "../data/random.ts";
import type { Gpu } from "../kernels/device.ts";
import { submit } from "../kernels/kernel.ts";
import { Tensor } from "../kernels/tensor.ts";
import { linear } from "../kernels/linear.ts";
import { matmul } from "../kernels/matmul.ts";
import { pixelNorm } from "../kernels/pixel_norm.ts";
import { modconv } from "../kernels/modconv.ts";
import { modconvUp } from "../kernels/modconv_up.ts";
import { linearRef, modconvRef, pixelNormRef } from "../kernels/reference/gan_ref.ts";
import { matmulRef } from "../kernels/reference/matmul_ref.ts";
import type { GeneratorWeights } from "../gan/weights.ts";
import { type BenchCase, type BuiltCase, dims, relativeDiff } from "./_case.ts";
import { type GeneratorLayer, generatorLayers, layerTensors } from "./_modconv_setup.ts";

/** Images per generator batch in the product's benchmark. */
export const GENERATOR_BATCH = 30;
/** Latents per mapping batch. */
export const MAPPING_BATCH = 256;
/** Images of a layer compared with the reference (each image is independent). */
const CHECK_IMAGES = 2;
const TOL = 1e-4;
const STRENGTH = 0.3;

/** One modulated conv layer of the generator at batch 30. */
function modconvCase([layer, cin, cout, h, up]: GeneratorLayer): BenchCase {
  const b = GENERATOR_BATCH, ho = up ? 2 * h : h;
  const convFlops = 2 * 9 * b * cout * cin * h * h;
  return {
    name: up ? "modconv_up" : "modconv",
    shape: `${layer} ${dims([b, cin, h, h])} -> ${cout}${up ? ` at ${ho}x${ho}` : ""}`,
    work: { flops: convFlops + (up ? 2 * 16 * b * cout * ho * ho : 0) },
    build(gpu): BuiltCase {
      const l = layerTensors(gpu, new Rng(2), [b, cin, cout, h, up]);
      const opts = { strength: STRENGTH, clamp: null };
      const conv = up ? modconvUp(gpu, l.t, opts) : [modconv(gpu, l.t, opts)];
      const dispatches = [l.demod, ...conv];
      return {
        dispatches,
        async check() {
          submit(gpu, dispatches, "check");
          const n = CHECK_IMAGES, got = await l.t.out.read();
          const want = modconvRef({
            x: l.data.x.subarray(0, n * cin * h * h),
            s: l.data.s.subarray(0, n * cin),
            w: l.data.w,
            bias: l.data.bias,
            noise: l.data.noise.subarray(0, n * ho * ho),
            strength: STRENGTH,
            clamp: null,
            batch: n,
            cin,
            cout,
            height: h,
            width: h,
            upFilter: up ? l.data.filter : undefined,
          });
          const rel = relativeDiff(layer, got.subarray(0, want.length), want, TOL);
          return `${n} images, ${rel.toExponential(1)}`;
        },
        output: () => l.t.out.read(),
        peer: (p) =>
          p.modconv({
            batch: b,
            cin,
            cout,
            height: h,
            width: h,
            up,
            x: l.data.x,
            s: l.data.s,
            w: l.data.w,
            bias: l.data.bias,
            noise: l.data.noise,
            strength: STRENGTH,
            clamp: null,
            filter: l.data.filter,
          }),
        destroy: () => Object.values(l.t).forEach((t) => t.destroy()),
      };
    },
  };
}

/** The mapping network (pixel norm, then `nMapping` dense + lrelu) with the file's weights. */
function mappingCase(weights: GeneratorWeights): BenchCase {
  const c = weights.config, b = MAPPING_BATCH;
  if (c.zDim !== c.wDim) {
    throw new RangeError(`mapping bench: z_dim is ${c.zDim}, expected w_dim ${c.wDim}`);
  }
  const d = c.wDim;
  return {
    name: "mapping",
    shape: `${dims([b, d])} x ${c.nMapping} layers`,
    work: { flops: c.nMapping * 2 * b * d * d },
    build(gpu): BuiltCase {
      const get = (name: string) => weights.tensors.get(name)!.data;
      const zv = new Rng(6).normals(b * d);
      const owned = [Tensor.from(gpu, zv, [b, d], "bench.z")];
      let x = Tensor.zeros(gpu, [b, d], "bench.z_norm");
      owned.push(x);
      const dispatches = [pixelNorm(gpu, owned[0], x)];
      const gain = { wGain: c.lrMul / Math.sqrt(d), bGain: c.lrMul, lrelu: true };
      for (let i = 0; i < c.nMapping; i++) {
        const w = Tensor.from(gpu, get(`mapping.fc${i}.weight`), [d, d], "bench.w");
        const bias = Tensor.from(gpu, get(`mapping.fc${i}.bias`), [d], "bench.b");
        const y = Tensor.zeros(gpu, [b, d], `bench.fc${i}`);
        owned.push(w, bias, y);
        dispatches.push(linear(gpu, x, w, bias, y, gain));
        x = y;
      }
      const out = x;
      return {
        dispatches,
        async check() {
          submit(gpu, dispatches, "check");
          let want: ArrayLike<number> = pixelNormRef(zv, b);
          for (let i = 0; i < c.nMapping; i++) {
            const w = get(`mapping.fc${i}.weight`), bias = get(`mapping.fc${i}.bias`);
            want = linearRef(want, w, bias, b, gain.wGain, gain.bGain, true);
          }
          return `full, ${relativeDiff("mapping", await out.read(), want, TOL).toExponential(1)}`;
        },
        output: () => out.read(),
        peer: (p) =>
          p.mapping({
            batch: b,
            dim: d,
            layers: c.nMapping,
            lrMul: c.lrMul,
            z: zv,
            weights: Array.from({ length: c.nMapping }, (_, i) => get(`mapping.fc${i}.weight`)),
            biases: Array.from({ length: c.nMapping }, (_, i) => get(`mapping.fc${i}.bias`)),
          }),
        destroy: () => owned.forEach((t) => t.destroy()),
      };
    },
  };
}

/** Rows of the matmul checked against the reference (a full float64 check takes seconds). */
const MATMUL_CHECK_ROWS = 16;

/** C [M, N] = A [M, K] · B [K, N] through `matmul` (the tile `chooseTile` picks). */
function matmulCase(m: number, k: number, n: number): BenchCase {
  return {
    name: "matmul",
    shape: `${m}x${k}x${n} (matmul, C = A·B)`,
    work: { flops: 2 * m * k * n },
    build(gpu: Gpu): BuiltCase {
      const rng = new Rng(8);
      const av = rng.normals(m * k), bv = rng.normals(k * n);
      const a = Tensor.from(gpu, av, [m, k], "bench.a");
      const b = Tensor.from(gpu, bv, [k, n], "bench.b");
      const c = Tensor.zeros(gpu, [m, n], "bench.c");
      const dispatch = matmul(gpu, a, b, c);
      return {
        dispatches: [dispatch],
        async check() {
          submit(gpu, [dispatch], "check");
          const rows = MATMUL_CHECK_ROWS, got = (await c.read()).subarray(0, rows * n);
          const want = matmulRef(av, bv, m, k, n, {
            rows: Array.from({ length: rows }, (_, i) => i),
          });
          return `${rows} rows, ${relativeDiff("matmul", got, want, TOL).toExponential(1)}`;
        },
        output: () => c.read(),
        peer: (p) => p.matmul(m, k, n, av, bv),
        destroy: () => [a, b, c].forEach((t) => t.destroy()),
      };
    },
  };
}

/** Every generator case: matmul, each conv layer, mapping (`quick`: mapping only). */
export function ganCases(weights: GeneratorWeights, quick: boolean): BenchCase[] {
  if (quick) return [mappingCase(weights)];
  const layers = generatorLayers(weights.config);
  return [
    matmulCase(1024, 1024, 1024),
    ...layers.filter((l) => !l[4]).map(modconvCase),
    ...layers.filter((l) => l[4]).map(modconvCase),
    mappingCase(weights),
  ];
}
