import { assert, gpu, gpuAvailable } from "./_helpers.ts";
import { Kernel, packParams, parseParamsStruct, submit } from "../kernels/kernel.ts";
import { Tensor } from "../kernels/tensor.ts";

const AXPY = `
struct Params { n: u32, alpha: f32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) id: vec3u) {
  if (id.x < p.n) { y[id.x] += p.alpha * x[id.x]; }
}`;

Deno.test("parseParamsStruct reads field names and types in order", () => {
  assert.deepStrictEqual(parseParamsStruct(AXPY), [["n", "u32"], ["alpha", "f32"]]);
});

Deno.test("packParams rejects a missing or non-integer u32 param", () => {
  const layout = parseParamsStruct(AXPY);
  assert.throws(() => packParams(layout, { n: 1.5, alpha: 1 }, "axpy"));
  assert.throws(() => packParams(layout, { alpha: 1 }, "axpy"));
});

Deno.test({
  name: "a bound kernel runs and can be re-dispatched with new params",
  ignore: !gpuAvailable,
  fn: async () => {
    const g = await gpu();
    const k = new Kernel("axpy", AXPY);
    const x = Tensor.from(g, new Float32Array([1, 2, 3]), [3], "x");
    const y = Tensor.from(g, new Float32Array([10, 20, 30]), [3], "y");
    const d = k.bind(g, [x, y], { n: 3, alpha: 2 }, [1]);
    submit(g, [d]);
    k.setParams(g, d, { n: 2, alpha: -1 });
    submit(g, [d]);
    assert.deepStrictEqual([...await y.read()], [11, 22, 36]);
    x.destroy();
    y.destroy();
  },
});
