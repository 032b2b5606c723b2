/**
 * The modulated convolutions at every layer shape of the default generator
 * (models/stylegan2-celeba-64: widths 128, 128, 128, 64, 32 at 4 .. 64), batch 2, against the
 * float64 reference, with the tiles the generator picks. Real shapes run the real loop trip
 * counts and tile grids, which small test shapes do not (llvmpipe silently stops a loop after
 * 65535 trips per invocation, so a kernel can pass small tests and fail here).
 */
import { assertClose, gpu, gpuAvailable } from "./_helpers.ts";
import { Rng } from "../data/random.ts";
import { submit } from "../kernels/kernel.ts";
import { Tensor } from "../kernels/tensor.ts";
import { demod, squaredTapSums } from "../kernels/demod.ts";
import { modconv, packConv3x3 } from "../kernels/modconv.ts";
import { modconvUp } from "../kernels/modconv_up.ts";
import { upFilterTaps } from "../kernels/up_epilogue.ts";
import { modconvRef } from "../kernels/reference/gan_ref.ts";

const TOL = { atol: 1e-4, rtol: 1e-4 };

/** [name, I, O, input side, up] of each conv layer of the default generator. */
const LAYERS: [string, number, number, number, boolean][] = [
  ["b4.conv1", 128, 128, 4, false],
  ["b8.conv0", 128, 128, 4, true],
  ["b8.conv1", 128, 128, 8, false],
  ["b16.conv0", 128, 128, 8, true],
  ["b16.conv1", 128, 128, 16, false],
  ["b32.conv0", 128, 64, 16, true],
  ["b32.conv1", 64, 64, 32, false],
  ["b64.conv0", 64, 32, 32, true],
  ["b64.conv1", 32, 32, 64, false],
];

for (const [name, cin, cout, h, up] of LAYERS) {
  Deno.test({
    name: `${up ? "modconv_up" : "modconv"} matches the reference at ${name}'s shape`,
    ignore: !gpuAvailable,
    fn: async () => {
      const g = await gpu(), rng = new Rng(cin + cout + h);
      const batch = 2, ho = up ? 2 * h : h;
      const x = rng.normals(batch * cin * h * h);
      const s = rng.normals(batch * cin);
      const w = rng.normals(cout * cin * 9);
      const bias = rng.normals(cout);
      const noise = rng.normals(batch * ho * ho);
      const filter = new Float32Array(16).map(() => 0.05 + 0.1 * rng.uniform());
      const packed = packConv3x3(w, cout, cin);
      const t = {
        x: Tensor.from(g, x, [batch, cin, h, h], "x"),
        styles: Tensor.from(g, s, [batch, cin], "s"),
        weight: Tensor.from(g, packed, [packed.length], "packed"),
        demod: Tensor.zeros(g, [batch, cout], "d"),
        bias: Tensor.from(g, bias, [cout], "bias"),
        noise: Tensor.from(g, noise, [batch, ho, ho], "noise"),
        out: Tensor.zeros(g, [batch, cout, ho, ho], "out"),
      };
      const wsq = Tensor.from(g, squaredTapSums(w, cout, cin), [cout, cin], "wsq");
      const taps = Tensor.from(g, upFilterTaps(filter), [4, 4], "taps");
      const sums = Tensor.zeros(g, [batch, cout, ho + 4, ho + 4], "sums");
      const opts = { strength: 0.3, clamp: null };
      const conv = up ? modconvUp(g, { ...t, taps, sums }, opts) : [modconv(g, t, opts)];
      submit(g, [demod(g, t.styles, wsq, t.demod), ...conv]);
      const expected = modconvRef({
        x,
        s,
        w,
        bias,
        noise,
        strength: 0.3,
        clamp: null,
        batch,
        cin,
        cout,
        height: h,
        width: h,
        upFilter: up ? filter : undefined,
      });
      const diff = assertClose(await t.out.read(), expected, name, TOL);
      console.log(`${name}: largest |diff| ${diff.toExponential(2)}`);
      [...Object.values(t), wsq, taps, sums].forEach((v) => v.destroy());
    },
  });
}
