/**
 * The ProtoNet kernels at the real training shapes (5-way 1-shot 5-query =
 * 30 images, 64×64): block 0's reductions run over B·H·W = 122880 values, more
 * than the 65535 trips after which llvmpipe silently stops a loop, so a kernel
 * that loops over a whole reduction in one invocation fails here and only here.
 */
import { assertClose, gpu, gpuAvailable } from "./_helpers.ts";
import { Rng } from "../data/random.ts";
import { conv2d } from "../kernels/conv2d.ts";
import { conv2dBackwardWeight } from "../kernels/conv2d_backward_weight.ts";
import { batchnormRelu } from "../kernels/batchnorm.ts";
import { maxpool2d } from "../kernels/maxpool2d.ts";
import {
  batchnormReluRef,
  channelStatsRef,
  conv2dBackwardRef,
  conv2dRef,
  maxpoolRef,
} from "../kernels/reference/protonet_ref.ts";
import { randn, runAndRead, upload } from "./_protonet_util.ts";

Deno.test({
  name: "block 0 at the training shape: conv, weight gradient, batch norm, pool match references",
  ignore: !gpuAvailable,
  fn: async () => {
    const g = await gpu();
    const rng = new Rng(11);
    const [b, ci, co, h, w] = [30, 3, 64, 64, 64];
    const dims = { b, c: ci, h, w };
    const xd = randn(rng, b * ci * h * w);
    const wd = randn(rng, co * ci * 9, 0.3);
    const bd = randn(rng, co, 0.1);
    const dyd = randn(rng, b * co * h * w, 0.1);
    const x = upload(g, xd, [b, ci, h, w], "x");
    const wt = upload(g, wd, [co, ci, 3, 3], "w");
    const bias = upload(g, bd, [co], "b");
    const y = upload(g, new Float64Array(b * co * h * w), [b, co, h, w], "y");
    const dy = upload(g, dyd, [b, co, h, w], "dy");
    const dw = upload(g, new Float64Array(co * ci * 9), [co, ci, 3, 3], "dw");
    const db = upload(g, new Float64Array(co), [co], "db");
    const ones = upload(g, new Float64Array(co).fill(1), [co], "gamma");
    const zeros = upload(g, new Float64Array(co), [co], "beta");
    const rm = upload(g, new Float64Array(co), [co], "running mean");
    const rv = upload(g, new Float64Array(co).fill(1), [co], "running var");
    const z = upload(g, new Float64Array(b * co * h * w), [b, co, h, w], "z");
    const pooled = upload(g, new Float64Array(b * co * h * w / 4), [b, co, h / 2, w / 2], "p");
    const fwd = conv2d(g, x, wt, bias, y);
    const bwd = conv2dBackwardWeight(g, x, dy, dw, db);
    const bn = batchnormRelu(g, y, ones, zeros, rm, rv, z, "train");
    const pool = maxpool2d(g, z, pooled);
    const [yGot, dwGot, dbGot, zGot, pGot] = await runAndRead(
      g,
      [...fwd.dispatches, ...bwd.dispatches, ...bn.dispatches, pool],
      [y, dw, db, z, pooled],
    );
    const yRef = conv2dRef(xd, wd, bd, dims, co);
    assertClose(yGot, yRef, "conv2d block 0", { atol: 1e-4, rtol: 1e-5 });
    const ref = conv2dBackwardRef(xd, wd, dyd, dims, co);
    // dw sums 122880 products of size ~0.1: float32 accumulation error stays far below 1e-3.
    assertClose(dwGot, ref.dw, "conv2d dW block 0", { atol: 2e-3, rtol: 1e-4 });
    assertClose(dbGot, ref.db, "conv2d db block 0", { atol: 2e-3, rtol: 1e-4 });
    const yDims = { b, c: co, h, w };
    const { mean, variance } = channelStatsRef(yGot, yDims);
    const zRef = batchnormReluRef(
      yGot,
      yDims,
      mean,
      variance,
      new Float64Array(co).fill(1),
      new Float64Array(co),
    );
    assertClose(zGot, zRef, "batch norm block 0", { atol: 1e-4, rtol: 1e-4 });
    assertClose(pGot, maxpoolRef(zGot, yDims), "max-pool block 0", { atol: 0 });
    [x, wt, bias, y, dy, dw, db, ones, zeros, rm, rv, z, pooled].forEach((t) => t.destroy());
    [fwd, bwd].forEach((op) => op.destroy());
  },
});
