import { assertClose, gpu, gpuAvailable } from "./_helpers.ts";
import { Rng } from "../data/random.ts";
import { submit } from "../kernels/kernel.ts";
import { Tensor } from "../kernels/tensor.ts";
import { bindToInput, toInputReference } from "../kernels/to_input.ts";
import { bindProtoClassify, protoClassifyReference } from "../kernels/proto_classify.ts";

for (const [r, s, gray] of [[16, 8, false], [16, 6, true], [8, 8, false]] as const) {
  Deno.test({
    name: `to_input ${r}px → ${s}px (gray ${gray}) matches the reference`,
    ignore: !gpuAvailable,
    fn: async () => {
      const g = await gpu();
      const rng = new Rng(5);
      const n = 3;
      const data = rng.normals(n * 3 * r * r).map((v) => v * 0.7);
      const img = Tensor.from(g, data, [n, 3, r, r], "img");
      const out = Tensor.zeros(g, [n, 3, s, s], "out");
      submit(g, [bindToInput(g, img, out, gray)]);
      // Quantisation steps are 1/127.5 ≈ 0.0078; float rounding can move a value by one step only
      // at exact boundaries, which random normals essentially never hit.
      assertClose(await out.read(), toInputReference(data, n, r, s, gray), "to_input", {
        atol: 1e-5,
      });
      img.destroy();
      out.destroy();
    },
  });
}

// The second shape has N·K·D = 76800 > 65535, the per-loop trip limit of llvmpipe that a
// single-pass kernel silently hit (it returned chance accuracy for 5-shot pixel prototypes).
for (
  const [m, dim, episodes, way, shot, perClass] of [[40, 7, 12, 4, 3, 2], [60, 3072, 6, 5, 5, 2]]
) {
  Deno.test({
    name: `proto_classify accuracy per episode matches the float64 reference (D ${dim}, K ${shot})`,
    ignore: !gpuAvailable,
    fn: async () => {
      const g = await gpu();
      const rng = new Rng(9);
      // Clustered embeddings so accuracy is neither 0 nor 1 everywhere.
      const emb = new Float32Array(m * dim).map((_, i) => ((i / dim) | 0) % way + rng.normal());
      const support = new Uint32Array(episodes * way * shot).map(() => rng.int(m));
      const query = new Uint32Array(episodes * way * perClass).map(() => rng.int(m));
      const te = Tensor.from(g, emb, [m, dim], "emb");
      const ts = Tensor.from(g, support, [episodes, way, shot], "support");
      const tq = Tensor.from(g, query, [episodes, way * perClass], "query");
      const tp = Tensor.zeros(g, [episodes, way, dim], "proto");
      const td = Tensor.zeros(g, [episodes, way * perClass, way], "dist");
      const tc = Tensor.zeros(g, [episodes, way * perClass], "correct");
      submit(g, bindProtoClassify(g, te, ts, tq, tp, td, tc));
      const correct = await tc.read();
      const got = Array.from(
        { length: episodes },
        (_, e) =>
          correct.subarray(e * way * perClass, (e + 1) * way * perClass).reduce(
            (a, b) => a + b,
            0,
          ) /
          (way * perClass),
      );
      const want = protoClassifyReference(emb, dim, support, query, episodes, way, shot, perClass);
      assertClose(got, want, "episode accuracy", { atol: 1e-9 });
      for (const t of [te, ts, tq, tp, td, tc]) t.destroy();
    },
  });
}
