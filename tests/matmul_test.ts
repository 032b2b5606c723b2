/**
 * `kernels/matmul.ts` against the float64 reference (`kernels/reference/matmul_ref.ts`): every
 * layout at odd shapes (partial tiles in M and N, a K tail, unaligned strides that take the scalar
 * loads), the bias / lrelu epilogue, each tile size, and a 1024-sized product on sampled rows.
 * (The 32 x 16 tile compiles for seconds on llvmpipe, so only two layouts use it.)
 */
import { assert, assertClose, gpu, gpuAvailable } from "./_helpers.ts";
import { Rng } from "../data/random.ts";
import type { Gpu } from "../kernels/device.ts";
import { submit } from "../kernels/kernel.ts";
import { Tensor } from "../kernels/tensor.ts";
import { chooseTile, matmul, type MatmulTile } from "../kernels/matmul.ts";
import { matmulRef } from "../kernels/reference/matmul_ref.ts";

const TOL = { atol: 2e-5, rtol: 2e-5 };

function upload(g: Gpu, rng: Rng, shape: number[], label: string) {
  const data = rng.normals(shape.reduce((a, b) => a * b, 1));
  return { t: Tensor.from(g, data, shape, label), data };
}

Deno.test({
  name: "matmul matches the reference in every layout at odd shapes and tiles",
  ignore: !gpuAvailable,
  fn: async () => {
    const g = await gpu(), rng = new Rng(11);
    const small: MatmulTile[] = [{ rows: 4, cols: 4 }, { rows: 8, cols: 8 }];
    const large: MatmulTile = { rows: 32, cols: 16 }; // takes seconds to compile: two layouts
    // [M, K, N]: K % 4 != 0 (scalar loads, K tail), K % 4 == 0 with N odd, all multiples of 4.
    for (const [m, k, n] of [[13, 10, 7], [9, 12, 21], [20, 8, 12]]) {
      for (const transA of [false, true]) {
        for (const transB of [false, true]) {
          const a = upload(g, rng, transA ? [k, m] : [m, k], "a");
          const b = upload(g, rng, transB ? [n, k] : [k, n], "b");
          const bias = upload(g, rng, [n], "bias");
          const c = Tensor.zeros(g, [m, n], "c");
          const withLarge = m === 20 && transA === transB;
          for (const tile of withLarge ? [...small, large] : small) {
            const epilogue = { alpha: 0.3, bias: bias.t, beta: 0.7, lrelu: true };
            submit(g, [matmul(g, a.t, b.t, c, { transA, transB, tile, ...epilogue })]);
            const want = matmulRef(a.data, b.data, m, k, n, {
              transA,
              transB,
              ...epilogue,
              bias: bias.data,
            });
            const what = `${m}x${k}x${n} transA=${transA} transB=${transB} ` +
              `tile ${tile.rows}x${tile.cols}`;
            assertClose(await c.read(), want, what, TOL);
          }
          [a.t, b.t, bias.t, c].forEach((t) => t.destroy());
        }
      }
    }
  },
});

Deno.test({
  name: "matmul reads strided, offset rows of A in place (aligned and unaligned)",
  ignore: !gpuAvailable,
  fn: async () => {
    const g = await gpu(), rng = new Rng(12);
    const [m, k, n] = [6, 16, 9];
    for (const [lda, aOffset] of [[40, 8], [37, 5]]) {
      const a = upload(g, rng, [m, lda], "a");
      const b = upload(g, rng, [k, n], "b");
      const c = Tensor.zeros(g, [m, n], "c");
      submit(g, [matmul(g, a.t, b.t, c, { lda, aOffset })]);
      const want = matmulRef(a.data, b.data, m, k, n, { lda, aOffset });
      const diff = assertClose(await c.read(), want, `lda ${lda} offset ${aOffset}`, TOL);
      console.log(`lda ${lda} offset ${aOffset}: largest |diff| ${diff.toExponential(2)}`);
      [a.t, b.t, c].forEach((t) => t.destroy());
    }
  },
});

Deno.test({
  name: "matmul at 1027x1024x1000 matches float64 on sampled rows",
  ignore: !gpuAvailable,
  fn: async () => {
    const g = await gpu(), rng = new Rng(13);
    const [m, k, n] = [1027, 1024, 1000];
    const a = upload(g, rng, [m, k], "a");
    const b = upload(g, rng, [k, n], "b");
    const c = Tensor.zeros(g, [m, n], "c");
    submit(g, [matmul(g, a.t, b.t, c)]);
    const got = await c.read();
    const rows = [0, 1, 31, 32, 517, 1024, 1026]; // tile edges and the partial last tile
    const want = matmulRef(a.data, b.data, m, k, n, { rows });
    const sampled = new Float32Array(rows.length * n);
    rows.forEach((r, i) => sampled.set(got.subarray(r * n, (r + 1) * n), i * n));
    // Sums of 1024 unit-normal products (|C| ~ 32) in float32: allow 1e-5 of sqrt(K) per sum.
    const diff = assertClose(sampled, want, "1027x1024x1000", { atol: 2e-3, rtol: 1e-5 });
    const tile = chooseTile(g, m, n);
    console.log(`tile ${tile.rows}x${tile.cols}: largest |diff| ${diff.toExponential(2)}`);
    [a.t, b.t, c].forEach((t) => t.destroy());
  },
});

Deno.test({
  name: "matmul rejects mismatched shapes naming the dimension",
  ignore: !gpuAvailable,
  fn: async () => {
    const g = await gpu();
    const a = Tensor.zeros(g, [4, 8], "a"), b = Tensor.zeros(g, [6, 5], "b");
    const c = Tensor.zeros(g, [4, 5], "c");
    assert.throws(
      () => matmul(g, a, b, c),
      /matmul A: tensor a has shape \[4, 8\], expected \[4, 6\]/,
    );
    assert.throws(() => matmul(g, a, b, c, { transB: true }), /matmul B: tensor b/);
    assert.throws(() => matmul(g, a, b, c, { tile: { rows: 6, cols: 8 } }), /tile rows is 6/);
    [a, b, c].forEach((t) => t.destroy());
  },
});
