/**
 * Generator kernels against their float64 references (kernels/reference/gan_ref.ts) at small
 * shapes, including channel counts that are not multiples of 4, clamping and an asymmetric
 * resample filter (so index flips would show).
 */
import { assertClose, gpu, gpuAvailable } from "./_helpers.ts";
import { Rng } from "../data/random.ts";
import type { Gpu } from "../kernels/device.ts";
import { submit } from "../kernels/kernel.ts";
import { Tensor } from "../kernels/tensor.ts";
import { linear } from "../kernels/linear.ts";
import { pixelNorm } from "../kernels/pixel_norm.ts";
import { demod, squaredTapSums } from "../kernels/demod.ts";
import { modconv, packConv3x3 } from "../kernels/modconv.ts";
import { modconvUp } from "../kernels/modconv_up.ts";
import { upFilterTaps } from "../kernels/up_epilogue.ts";
import { packToRgb, toRgb } from "../kernels/torgb.ts";
import { upfir } from "../kernels/upfir.ts";
import { wsTruncate } from "../kernels/ws_truncate.ts";
import { wsMix } from "../kernels/ws_mix.ts";
import {
  linearRef,
  modconvRef,
  pixelNormRef,
  toRgbRef,
  truncateRef,
  upfirRef,
} from "../kernels/reference/gan_ref.ts";

const TOL = { atol: 2e-5, rtol: 2e-5 };

/** A tensor of N(0, scale²) values, returned with its CPU copy. */
function randn(g: Gpu, rng: Rng, shape: number[], label: string, scale = 1) {
  const data = rng.normals(shape.reduce((a, b) => a * b, 1)).map((v) => v * scale);
  return { t: Tensor.from(g, data, shape, label), data };
}

/** An asymmetric 4x4 filter (rows sum to different values) to catch flipped indices. */
function oddFilter(rng: Rng): Float32Array {
  return new Float32Array(16).map(() => 0.05 + 0.1 * rng.uniform());
}

function check(actual: Float32Array, expected: ArrayLike<number>, what: string) {
  const diff = assertClose(actual, expected, what, TOL);
  console.log(`${what}: largest |diff| ${diff.toExponential(2)}`);
}

Deno.test({
  name: "linear matches the reference with gains, lrelu and a strided input row",
  ignore: !gpuAvailable,
  fn: async () => {
    const g = await gpu(), rng = new Rng(1);
    const [rows, cin, cout, stride, offset] = [3, 10, 7, 25, 12];
    const x = randn(g, rng, [rows, stride], "x");
    const w = randn(g, rng, [cout, cin], "w");
    const b = randn(g, rng, [cout], "b");
    const y = Tensor.zeros(g, [rows, cout], "y");
    for (const lrelu of [false, true]) {
      submit(g, [linear(g, x.t, w.t, b.t, y, {
        wGain: 0.3,
        bGain: 0.7,
        lrelu,
        xStride: stride,
        xOffset: offset,
      })]);
      const xs = new Float32Array(rows * cin);
      for (let r = 0; r < rows; r++) {
        xs.set(x.data.subarray(r * stride + offset, r * stride + offset + cin), r * cin);
      }
      check(await y.read(), linearRef(xs, w.data, b.data, rows, 0.3, 0.7, lrelu), "linear");
    }
    [x.t, w.t, b.t, y].forEach((t) => t.destroy());
  },
});

Deno.test({
  name: "pixel_norm matches the reference",
  ignore: !gpuAvailable,
  fn: async () => {
    const g = await gpu(), rng = new Rng(2);
    const x = randn(g, rng, [5, 9], "x", 3);
    const y = Tensor.zeros(g, [5, 9], "y");
    submit(g, [pixelNorm(g, x.t, y)]);
    check(await y.read(), pixelNormRef(x.data, 5), "pixel_norm");
    x.t.destroy();
    y.destroy();
  },
});

/** Runs demod + modconv(Up) on random data and compares with the spec-form reference. */
async function modconvCase(up: boolean, cout: number, clamp: number | null, seed: number) {
  const g = await gpu(), rng = new Rng(seed);
  const [batch, cin, h, w] = [2, 5, 4, 8];
  const [ho, wo] = up ? [2 * h, 2 * w] : [h, w];
  const x = randn(g, rng, [batch, cin, h, w], "x");
  const s = randn(g, rng, [batch, cin], "s");
  const weight = rng.normals(cout * cin * 9);
  const bias = randn(g, rng, [cout], "bias");
  const noise = randn(g, rng, [batch, ho, wo], "noise");
  const filter = oddFilter(rng);
  const packed = packConv3x3(weight, cout, cin);
  const wsq = Tensor.from(g, squaredTapSums(weight, cout, cin), [cout, cin], "wsq");
  const d = Tensor.zeros(g, [batch, cout], "d");
  const out = Tensor.zeros(g, [batch, cout, ho, wo], "out");
  const t = {
    x: x.t,
    styles: s.t,
    weight: Tensor.from(g, packed, [packed.length], "packed"),
    demod: d,
    bias: bias.t,
    noise: noise.t,
    out,
  };
  const opts = { strength: 0.3, clamp };
  const taps = Tensor.from(g, upFilterTaps(filter), [4, 4], "taps");
  const sums = Tensor.zeros(g, [batch, cout, ho + 4, wo + 4], "sums");
  const conv = up ? modconvUp(g, { ...t, taps, sums }, opts) : [modconv(g, t, opts)];
  submit(g, [demod(g, s.t, wsq, d), ...conv]);
  const expected = modconvRef({
    x: x.data,
    s: s.data,
    w: weight,
    bias: bias.data,
    noise: noise.data,
    strength: 0.3,
    clamp,
    batch,
    cin,
    cout,
    height: h,
    width: w,
    upFilter: up ? filter : undefined,
  });
  check(await out.read(), expected, `modconv${up ? "_up" : ""} O=${cout} clamp=${clamp}`);
  Object.values(t).forEach((v) => v.destroy());
  [wsq, taps, sums].forEach((v) => v.destroy());
}

Deno.test({
  name: "modconv (modulated input, demod epilogue) matches the modulated-weight reference",
  ignore: !gpuAvailable,
  fn: async () => {
    await modconvCase(false, 8, null, 3);
    await modconvCase(false, 6, 0.5, 4);
    await modconvCase(false, 12, null, 10); // odd number of vec4 groups with 2 per invocation
  },
});

Deno.test({
  name: "modconv_up (transposed conv, then FIR epilogue) matches transposed conv + FIR",
  ignore: !gpuAvailable,
  fn: async () => {
    await modconvCase(true, 8, null, 5);
    await modconvCase(true, 3, 0.5, 6);
    await modconvCase(true, 12, null, 11);
  },
});

Deno.test({
  name: "torgb matches the reference and adds the skip image",
  ignore: !gpuAvailable,
  fn: async () => {
    const g = await gpu(), rng = new Rng(7);
    const [batch, cin, h, w, cimg] = [2, 6, 4, 4, 3];
    const x = randn(g, rng, [batch, cin, h, w], "x");
    const s = randn(g, rng, [batch, cin], "s");
    const weight = rng.normals(cimg * cin);
    const bias = randn(g, rng, [cimg], "bias");
    const skip = randn(g, rng, [batch, cimg, h, w], "skip");
    const out = Tensor.zeros(g, [batch, cimg, h, w], "out");
    const img = Tensor.zeros(g, [batch, cimg, h, w], "img");
    const packed = Tensor.from(g, packToRgb(weight, cimg, cin), [cin * 4], "packed");
    submit(g, [
      toRgb(g, { x: x.t, styles: s.t, weight: packed, bias: bias.t, skip: skip.t, out, img }, 1),
    ]);
    const expected = toRgbRef(x.data, s.data, weight, bias.data, batch, cin, h * w, 1);
    check(await out.read(), expected, "torgb out");
    check(await img.read(), expected.map((v, i) => v + skip.data[i]), "torgb img");
    [x.t, s.t, bias.t, skip.t, out, img, packed].forEach((t) => t.destroy());
  },
});

Deno.test({
  name: "upfir matches zero insertion + padding + 4f convolution",
  ignore: !gpuAvailable,
  fn: async () => {
    const g = await gpu(), rng = new Rng(8);
    const x = randn(g, rng, [2, 3, 4, 4], "x");
    const f = oddFilter(rng);
    const gain = Tensor.from(g, f.map((v) => 4 * v), [4, 4], "g");
    const y = Tensor.zeros(g, [2, 3, 8, 8], "y");
    submit(g, [upfir(g, x.t, gain, y)]);
    check(await y.read(), upfirRef(x.data, f, 6, 4, 4), "upfir");
    [x.t, gain, y].forEach((t) => t.destroy());
  },
});

Deno.test({
  name: "ws_truncate broadcasts and truncates below the cutoff; ws_mix swaps a style range",
  ignore: !gpuAvailable,
  fn: async () => {
    const g = await gpu(), rng = new Rng(9);
    const [batch, layers, dim] = [2, 6, 5];
    const w = randn(g, rng, [batch, dim], "w");
    const avg = randn(g, rng, [dim], "avg");
    const ws = Tensor.zeros(g, [batch, layers, dim], "ws");
    submit(g, [wsTruncate(g, w.t, avg.t, ws, 0.6, 4)]);
    const wsData = await ws.read();
    check(wsData, truncateRef(w.data, avg.data, layers, 0.6, 4), "ws_truncate");
    const b = randn(g, rng, [batch, layers, dim], "b");
    const mixed = Tensor.zeros(g, [batch, layers, dim], "mixed");
    submit(g, [wsMix(g, ws, b.t, mixed, 2, 5)]);
    const expected = wsData.map((v, i) => {
      const l = Math.floor(i / dim) % layers;
      return l >= 2 && l < 5 ? b.data[i] : v;
    });
    check(await mixed.read(), expected, "ws_mix");
    [w.t, avg.t, ws, b.t, mixed].forEach((t) => t.destroy());
  },
});
