/**
 * ProtoNet backward kernels: each TypeScript reference gradient against float64 central finite
 * differences of its forward reference (through a random linear read-out), and each GPU
 * backward kernel against that reference, at tiny shapes (odd sizes included).
 */
import { assertClose, gpu, gpuAvailable } from "./_helpers.ts";
import { Tensor } from "../kernels/tensor.ts";
import { Rng } from "../data/random.ts";
import { conv2dBackwardData } from "../kernels/conv2d.ts";
import { conv2dBackwardWeight } from "../kernels/conv2d_backward_weight.ts";
import { batchnormRelu, batchnormReluBackward } from "../kernels/batchnorm.ts";
import { maxpool2dBackward } from "../kernels/maxpool2d.ts";
import { protoLoss } from "../kernels/proto_loss.ts";
import {
  batchnormReluBackwardRef,
  batchnormReluRef,
  channelStatsRef,
  conv2dBackwardRef,
  conv2dRef,
  maxpoolBackwardRef,
  maxpoolRef,
  protoLossRef,
} from "../kernels/reference/protonet_ref.ts";
import { dot, finiteDifferences, randn, runAndRead, upload } from "./_protonet_util.ts";

/** Finite-difference tolerance: float64 central differences with h = 1e-6. */
const FD = { atol: 1e-6, rtol: 1e-5 };
/** GPU (float32) against the float64 reference. */
const F32 = { atol: 2e-5, rtol: 1e-4 };

Deno.test("conv2d reference gradients match finite differences", () => {
  const rng = new Rng(21);
  const d = { b: 2, c: 3, h: 4, w: 5 }, co = 4;
  const x = randn(rng, d.b * d.c * d.h * d.w), w = randn(rng, co * d.c * 9);
  const bias = randn(rng, co), r = randn(rng, d.b * co * d.h * d.w);
  const { dx, dw, db } = conv2dBackwardRef(x, w, r, d, co);
  assertClose(dx, finiteDifferences((v) => dot(r, conv2dRef(v, w, bias, d, co)), x), "dx", FD);
  assertClose(dw, finiteDifferences((v) => dot(r, conv2dRef(x, v, bias, d, co)), w), "dw", FD);
  assertClose(db, finiteDifferences((v) => dot(r, conv2dRef(x, w, v, d, co)), bias), "db", FD);
});

Deno.test("batchnorm+relu reference gradients match finite differences", () => {
  const rng = new Rng(22);
  const d = { b: 3, c: 2, h: 3, w: 5 };
  const y = randn(rng, d.b * d.c * d.h * d.w), gamma = randn(rng, d.c), beta = randn(rng, d.c);
  const r = randn(rng, y.length);
  const f = (yv: Float64Array, gv: Float64Array, bv: Float64Array) => {
    const { mean, variance } = channelStatsRef(yv, d);
    return dot(r, batchnormReluRef(yv, d, mean, variance, gv, bv));
  };
  const ref = batchnormReluBackwardRef(y, r, d, gamma, beta);
  assertClose(ref.dy, finiteDifferences((v) => f(v, gamma, beta), y), "bn dy", FD);
  assertClose(ref.dgamma, finiteDifferences((v) => f(y, v, beta), gamma), "bn dgamma", FD);
  assertClose(ref.dbeta, finiteDifferences((v) => f(y, gamma, v), beta), "bn dbeta", FD);
});

Deno.test("maxpool and proto loss reference gradients match finite differences", () => {
  const rng = new Rng(23);
  const d = { b: 2, c: 2, h: 5, w: 7 };
  const z = randn(rng, d.b * d.c * d.h * d.w), r = randn(rng, d.b * d.c * 2 * 3);
  const dz = maxpoolBackwardRef(z, r, d);
  assertClose(dz, finiteDifferences((v) => dot(r, maxpoolRef(v, d)), z), "maxpool dz", FD);
  const [n, k, q, dim] = [3, 2, 2, 4];
  const e = randn(rng, n * (k + q) * dim, 0.5);
  const de = protoLossRef(e, n, k, q, dim).de;
  const fd = finiteDifferences((v) => protoLossRef(v, n, k, q, dim).loss, e);
  assertClose(de, fd, "proto loss de", FD);
});

Deno.test({
  name: "GPU conv2d backward (data, weight, bias) matches the reference",
  ignore: !gpuAvailable,
  fn: async () => {
    const g = await gpu();
    const rng = new Rng(24);
    for (const [b, ci, co, h, w] of [[2, 3, 5, 5, 7], [3, 6, 16, 9, 4]]) {
      const d = { b, c: ci, h, w };
      const xd = randn(rng, b * ci * h * w), wd = randn(rng, co * ci * 9, 0.3);
      const dyd = randn(rng, b * co * h * w);
      const x = upload(g, xd, [b, ci, h, w], "x"), wt = upload(g, wd, [co, ci, 3, 3], "w");
      const dy = upload(g, dyd, [b, co, h, w], "dy");
      const dx = Tensor.zeros(g, [b, ci, h, w], "dx");
      const dw = Tensor.zeros(g, [co, ci, 3, 3], "dw"), db = Tensor.zeros(g, [co], "db");
      const opData = conv2dBackwardData(g, dy, wt, dx);
      const opWeight = conv2dBackwardWeight(g, x, dy, dw, db);
      const [dxGot, dwGot, dbGot] = await runAndRead(
        g,
        [...opData.dispatches, ...opWeight.dispatches],
        [dx, dw, db],
      );
      const ref = conv2dBackwardRef(xd, wd, dyd, d, co);
      const tag = [b, ci, co, h, w].join(",");
      const m = [
        assertClose(dxGot, ref.dx, `conv dx ${tag}`, F32),
        assertClose(dwGot, ref.dw, `conv dw ${tag}`, F32),
        assertClose(dbGot, ref.db, `conv db ${tag}`, F32),
      ];
      console.log(
        `conv backward ${tag}: largest |diff| dx/dw/db ${m.map((v) => v.toExponential(2))}`,
      );
      [x, wt, dy, dx, dw, db].forEach((t) => t.destroy());
      opData.destroy();
      opWeight.destroy();
    }
  },
});

Deno.test({
  name: "GPU batchnorm+relu, maxpool and proto loss backward match the reference",
  ignore: !gpuAvailable,
  fn: async () => {
    const g = await gpu();
    const rng = new Rng(25);
    // 5x7: scalar loads; 20x20: vec4 loads, two chunks per plane; 5x8: vec4 pool, odd row.
    const shapes = [{ b: 3, c: 5, h: 5, w: 7 }, { b: 2, c: 3, h: 20, w: 20 }, {
      b: 2,
      c: 2,
      h: 5,
      w: 8,
    }];
    for (const d of shapes) {
      const [ph, pw] = [Math.floor(d.h / 2), Math.floor(d.w / 2)];
      const shape = [d.b, d.c, d.h, d.w];
      const n = d.b * d.c * d.h * d.w;
      const yd = randn(rng, n), gammaD = randn(rng, d.c), betaD = randn(rng, d.c);
      const dpd = randn(rng, d.b * d.c * ph * pw);
      const y = upload(g, yd, shape, "y");
      const gamma = upload(g, gammaD, [d.c], "gamma"), beta = upload(g, betaD, [d.c], "beta");
      const rm = Tensor.zeros(g, [d.c], "rm"), rv = Tensor.zeros(g, [d.c], "rv");
      const z = Tensor.zeros(g, shape, "z"), dz = Tensor.zeros(g, shape, "dz");
      const dy = Tensor.zeros(g, shape, "dy");
      const dp = upload(g, dpd, [d.b, d.c, ph, pw], "dp");
      const dgamma = Tensor.zeros(g, [d.c], "dgamma"), dbeta = Tensor.zeros(g, [d.c], "dbeta");
      const fwd = batchnormRelu(g, y, gamma, beta, rm, rv, z, "train");
      const pool = maxpool2dBackward(g, z, dp, dz);
      const bwd = batchnormReluBackward(g, y, dz, fwd.stats, dy, dgamma, dbeta);
      const [zGot, dzGot, dyGot, dgGot, dbGot] = await runAndRead(
        g,
        [...fwd.dispatches, pool, ...bwd.dispatches],
        [z, dz, dy, dgamma, dbeta],
      );
      const dzRef = maxpoolBackwardRef(zGot, dpd, d);
      assertClose(dzGot, dzRef, "maxpool dz", { atol: 0 });
      const ref = batchnormReluBackwardRef(yd, dzRef, d, gammaD, betaD);
      const m = [
        assertClose(dyGot, ref.dy, "bn dy", F32),
        assertClose(dgGot, ref.dgamma, "bn dgamma", F32),
        assertClose(dbGot, ref.dbeta, "bn dbeta", F32),
      ];
      console.log(
        `bn backward ${shape}: largest |diff| dy/dgamma/dbeta ${m.map((v) => v.toExponential(2))}`,
      );
      [y, gamma, beta, rm, rv, z, dz, dy, dp, dgamma, dbeta].forEach((t) => t.destroy());
      [fwd, bwd].forEach((op) => op.destroy());
    }

    const [nw, k, q, dim] = [3, 2, 2, 5];
    const ed = randn(rng, nw * (k + q) * dim, 0.5);
    const e = upload(g, ed, [nw * (k + q), dim], "e");
    const de = Tensor.zeros(g, [nw * (k + q), dim], "de");
    const loss = protoLoss(g, e, { nWay: nw, kShot: k, nQuery: q }, de);
    const [deGot] = await runAndRead(g, loss.dispatches, [de]);
    assertClose(deGot, protoLossRef(ed, nw, k, q, dim).de, "proto de", { atol: 1e-6, rtol: 1e-4 });
    [e, de].forEach((t) => t.destroy());
    loss.destroy();
  },
});
