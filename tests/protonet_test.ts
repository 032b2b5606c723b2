/**
 * ProtoNet on the GPU: the golden Conv-4 episode (forward activations, loss, every gradient),
 * each forward kernel against its float64 TypeScript reference (odd shapes included), Adam,
 * and eval-mode batch-norm independence.
 */
import { assert, assertClose, goldenTensor, gpu, gpuAvailable, readGolden } from "./_helpers.ts";
import { Tensor } from "../kernels/tensor.ts";
import { Rng } from "../data/random.ts";
import { Adam, Conv4 } from "../protonet/mod.ts";
import { conv2d } from "../kernels/conv2d.ts";
import { batchnormRelu } from "../kernels/batchnorm.ts";
import { maxpool2d } from "../kernels/maxpool2d.ts";
import { protoLoss } from "../kernels/proto_loss.ts";
import {
  adamRef,
  batchnormReluRef,
  channelStatsRef,
  conv2dRef,
  maxpoolRef,
  protoLossRef,
  runningStatsRef,
} from "../kernels/reference/protonet_ref.ts";
import { randn, runAndRead, upload } from "./_protonet_util.ts";

const GOLDEN = "protonet-conv4-5w1s3q.golden.safetensors";

Deno.test({
  name: "Conv4 reproduces the golden 5-way 1-shot 3-query episode and its gradients",
  ignore: !gpuAvailable,
  fn: async () => {
    const g = await gpu();
    const file = await readGolden(GOLDEN);
    const f32 = (name: string) => goldenTensor(file, name).data as Float32Array;
    const model = new Conv4(g, new Rng(0), { batch: 20, imageSize: 32, inputGrad: true });
    const params = new Map<string, Float32Array>();
    for (const name of model.parameterNames) {
      if (!name.includes("running")) params.set(name, f32(`param.${name}`));
    }
    model.setParameters(params);
    const input = new Float32Array(20 * 3 * 32 * 32);
    input.set(f32("support"));
    input.set(f32("query"), 5 * 3 * 32 * 32);
    const x = Tensor.from(g, input, [20, 3, 32, 32], "golden.input");
    const { loss, acc } = await model.lossAndGradients(x, 5, 1, 3);
    const report: string[] = [];
    const check = (
      what: string,
      actual: ArrayLike<number>,
      tol: { atol?: number; rtol?: number },
    ) => {
      const d = assertClose(actual, f32(what), what, tol);
      report.push(`${what} ${d.toExponential(2)}`);
    };
    check("loss", [loss], { rtol: 1e-4 });
    check("acc", [acc], { atol: 1e-6 });
    for (let i = 0; i < 4; i++) {
      check(`act.block${i}`, await model.blocks[i].output.read(), { atol: 1e-4, rtol: 1e-4 });
    }
    check("embeddings", await model.embeddings.read(), { atol: 1e-4, rtol: 1e-4 });
    const lossOp = model.lossOp({ nWay: 5, kShot: 1, nQuery: 3 });
    check("prototypes", await lossOp.prototypes.read(), { atol: 1e-4, rtol: 1e-4 });
    check("logits", await lossOp.logits.read(), { rtol: 1e-4 });
    const grads = await model.getGradients();
    for (const [name, grad] of grads) {
      const expected = f32(`grad.${name}`);
      const scale = Math.max(...expected.map(Math.abs));
      const tol = name.endsWith("conv.bias") ? { atol: 1e-4 } : { atol: 1e-3 * scale, rtol: 1e-3 };
      check(`grad.${name}`, grad, tol);
      report.push(`(max |grad| ${scale.toExponential(2)})`);
    }
    const dInput = await model.inputGrad!.read();
    const ds = f32("grad.support"), dq = f32("grad.query");
    const gScale = Math.max(...ds.map(Math.abs), ...dq.map(Math.abs));
    check("grad.support", dInput.subarray(0, ds.length), { atol: 1e-3 * gScale, rtol: 1e-3 });
    check("grad.query", dInput.subarray(ds.length), { atol: 1e-3 * gScale, rtol: 1e-3 });
    console.log(`golden largest |diff|: ${report.join(", ")}`);
    x.destroy();
    model.destroy();
  },
});

Deno.test({
  name: "conv2d matches the float64 reference, odd sizes included",
  ignore: !gpuAvailable,
  fn: async () => {
    const g = await gpu();
    const rng = new Rng(11);
    // [B, Cin, Cout, H, W]: odd widths/heights, Cout not a multiple of 8, width < tile.
    // W = 12: whole vec4 rows, but the second column block of the last tile lies past the edge.
    const shapes = [[2, 3, 5, 5, 7], [1, 6, 16, 12, 17], [3, 4, 9, 3, 2], [2, 5, 12, 6, 12]];
    for (const [b, ci, co, h, w] of shapes) {
      const xd = randn(rng, b * ci * h * w), wd = randn(rng, co * ci * 9, 0.3);
      const bd = randn(rng, co);
      const x = upload(g, xd, [b, ci, h, w], "x");
      const wt = upload(g, wd, [co, ci, 3, 3], "w");
      const bias = upload(g, bd, [co], "bias");
      const y = Tensor.zeros(g, [b, co, h, w], "y");
      const op = conv2d(g, x, wt, bias, y);
      const [got] = await runAndRead(g, op.dispatches, [y]);
      const want = conv2dRef(xd, wd, bd, { b, c: ci, h, w }, co);
      const d = assertClose(got, want, `conv2d ${[b, ci, co, h, w]}`, { atol: 1e-5, rtol: 1e-5 });
      console.log(`conv2d ${[b, ci, co, h, w]}: largest |diff| ${d.toExponential(2)}`);
      [x, wt, bias, y].forEach((t) => t.destroy());
      op.destroy();
    }
  },
});

Deno.test({
  name: "batchnorm+relu (train and eval) and maxpool match the float64 reference",
  ignore: !gpuAvailable,
  fn: async () => {
    const g = await gpu();
    const rng = new Rng(12);
    const dims = { b: 3, c: 5, h: 5, w: 7 };
    const n = dims.b * dims.c * dims.h * dims.w;
    // An offset mean tests the centred variance (E[y^2] - E[y]^2 would lose digits).
    const yd = randn(rng, n).map((v) => Math.fround(3 * v + 20));
    const gammaD = randn(rng, dims.c), betaD = randn(rng, dims.c);
    const rmD = randn(rng, dims.c), rvD = randn(rng, dims.c).map((v) => Math.fround(1 + v * v));
    const shape = [dims.b, dims.c, dims.h, dims.w];
    const y = upload(g, yd, shape, "y");
    const gamma = upload(g, gammaD, [dims.c], "gamma"), beta = upload(g, betaD, [dims.c], "beta");
    const rm = upload(g, rmD, [dims.c], "rm"), rv = upload(g, rvD, [dims.c], "rv");
    const z = Tensor.zeros(g, shape, "z");
    const pooled = Tensor.zeros(g, [dims.b, dims.c, 2, 3], "pooled");

    const evalOp = batchnormRelu(g, y, gamma, beta, rm, rv, z, "eval");
    const [zEval] = await runAndRead(g, evalOp.dispatches, [z]);
    const wantEval = batchnormReluRef(yd, dims, rmD, rvD, gammaD, betaD);
    const dEval = assertClose(zEval, wantEval, "bn eval", { atol: 1e-5, rtol: 1e-5 });

    const trainOp = batchnormRelu(g, y, gamma, beta, rm, rv, z, "train");
    const pool = maxpool2d(g, z, pooled);
    const [zTrain, stats, rmNew, rvNew, pooledGot] = await runAndRead(
      g,
      [...trainOp.dispatches, pool],
      [z, trainOp.stats, rm, rv, pooled],
    );
    const { mean, variance } = channelStatsRef(yd, dims);
    const wantTrain = batchnormReluRef(yd, dims, mean, variance, gammaD, betaD);
    const dTrain = assertClose(zTrain, wantTrain, "bn train", { atol: 1e-5, rtol: 1e-5 });
    const means = [...stats].filter((_, i) => i % 4 === 0);
    assertClose(means, mean, "bn batch mean", { rtol: 1e-6 });
    const run = runningStatsRef(rmD, rvD, mean, variance, dims.b * dims.h * dims.w);
    assertClose(rmNew, run.mean, "running_mean", { atol: 1e-6, rtol: 1e-6 });
    assertClose(rvNew, run.variance, "running_var", { atol: 1e-6, rtol: 1e-5 });
    const dPool = assertClose(pooledGot, maxpoolRef(zTrain, dims), "maxpool 5x7", { atol: 0 });
    console.log(
      `bn eval ${dEval.toExponential(2)}, train ${dTrain.toExponential(2)}, ` +
        `maxpool ${dPool}`,
    );
    [y, gamma, beta, rm, rv, z, pooled].forEach((t) => t.destroy());
    evalOp.destroy();
    trainOp.destroy();
  },
});

Deno.test({
  name: "protoLoss matches the float64 reference (prototypes, logits, loss, accuracy)",
  ignore: !gpuAvailable,
  fn: async () => {
    const g = await gpu();
    const rng = new Rng(13);
    const [nWay, kShot, nQuery, dim] = [3, 2, 3, 7];
    const rows = nWay * (kShot + nQuery);
    const ed = randn(rng, rows * dim);
    const e = upload(g, ed, [rows, dim], "e");
    const op = protoLoss(g, e, { nWay, kShot, nQuery });
    const [protos, logits, result] = await runAndRead(g, op.dispatches, [
      op.prototypes,
      op.logits,
      op.result,
    ]);
    const want = protoLossRef(ed, nWay, kShot, nQuery, dim);
    assertClose(protos, want.protos, "prototypes", { atol: 1e-6, rtol: 1e-6 });
    assertClose(logits, want.logits, "logits", { atol: 1e-5, rtol: 1e-5 });
    assertClose([result[0]], [want.loss], "loss", { atol: 1e-6, rtol: 1e-5 });
    assert.strictEqual(result[1], Math.fround(want.acc));
    e.destroy();
    op.destroy();
  },
});

Deno.test({
  name: "Adam matches the float64 reference over one and several steps",
  ignore: !gpuAvailable,
  fn: async () => {
    const g = await gpu();
    const rng = new Rng(14);
    const n = 133;
    const p0 = randn(rng, n);
    const param = upload(g, p0, [n], "param");
    const grad = Tensor.zeros(g, [n], "grad");
    const adam = new Adam(g, [{ name: "p", param, grad }], { lr: 0.01 });
    const ref = Float64Array.from(p0);
    const state = { m: new Float64Array(n), v: new Float64Array(n), step: 0 };
    for (let step = 1; step <= 5; step++) {
      const gd = randn(rng, n, step);
      grad.write(Float32Array.from(gd));
      const [got] = await runAndRead(g, adam.nextStep(), [param]);
      adamRef(ref, gd, state, 0.01);
      const d = assertClose(got, ref, `adam step ${step}`, { atol: 1e-6, rtol: 1e-5 });
      if (step === 1 || step === 5) console.log(`adam step ${step}: largest |diff| ${d}`);
    }
    assert.strictEqual(adam.stepCount, 5);
    adam.destroy();
    param.destroy();
    grad.destroy();
  },
});

Deno.test({
  name: "Adam state saved mid-training and restored gives identical next updates",
  ignore: !gpuAvailable,
  fn: async () => {
    const g = await gpu();
    const rng = new Rng(16);
    const n = 37;
    const p0 = Float32Array.from(randn(rng, n));
    const grads = [1, 2, 3].map((s) => Float32Array.from(randn(rng, n, s)));
    const make = (label: string) => {
      const param = Tensor.from(g, p0, [n], `${label}.param`);
      const grad = Tensor.zeros(g, [n], `${label}.grad`);
      return { param, grad, adam: new Adam(g, [{ name: "p", param, grad }], { lr: 0.01 }) };
    };
    const a = make("a");
    for (const gd of grads.slice(0, 2)) {
      a.grad.write(gd);
      await runAndRead(g, a.adam.nextStep(), [a.param]);
    }
    const state = await a.adam.getState();
    assert.deepStrictEqual([...state.keys()], ["adam.m.p", "adam.v.p"]);
    const b = make("b");
    b.param.write(await a.param.read());
    b.adam.setState(state, a.adam.stepCount);
    assert.strictEqual(b.adam.stepCount, 2);
    a.grad.write(grads[2]);
    b.grad.write(grads[2]);
    const [pa] = await runAndRead(g, a.adam.nextStep(), [a.param]);
    const [pb] = await runAndRead(g, b.adam.nextStep(), [b.param]);
    assert.deepStrictEqual([...pb], [...pa], "restored Adam made a different update");
    assert.deepStrictEqual([...(await b.adam.getState()).get("adam.v.p")!], [
      ...(await a.adam.getState()).get("adam.v.p")!,
    ]);
    assert.throws(() => b.adam.setState(new Map(), 1), /missing adam\.m\.p/);
    for (const t of [a, b]) {
      t.adam.destroy();
      t.param.destroy();
      t.grad.destroy();
    }
  },
});

Deno.test({
  name: "eval-mode embeddings of one image do not depend on the rest of the batch",
  ignore: !gpuAvailable,
  fn: async () => {
    const g = await gpu();
    const rng = new Rng(15);
    const model = new Conv4(g, rng, { batch: 4, imageSize: 16, width: 8 });
    const stats = new Map<string, Float32Array>();
    for (let i = 0; i < 4; i++) {
      stats.set(`block${i}.bn.running_mean`, rng.normals(8).map((v) => 0.1 * v));
      stats.set(`block${i}.bn.running_var`, rng.normals(8).map((v) => 0.5 + v * v));
    }
    model.setParameters(stats);
    const per = 3 * 16 * 16;
    const a = rng.normals(4 * per), b = Float32Array.from(a);
    b.set(rng.normals(3 * per), per); // same image 0, different images 1..3
    const xa = Tensor.from(g, a, model.input.shape, "xa");
    const xb = Tensor.from(g, b, model.input.shape, "xb");
    const ea = (await model.forward(xa, "eval").read()).slice(0, model.embeddingDim);
    const eb = (await model.forward(xb, "eval").read()).slice(0, model.embeddingDim);
    assert.deepStrictEqual([...eb], [...ea], "eval embedding of image 0 changed with the batch");
    const ta = (await model.forward(xa, "train").read()).slice(0, model.embeddingDim);
    const tb = (await model.forward(xb, "train").read()).slice(0, model.embeddingDim);
    assert.ok(ta.some((v, i) => v !== tb[i]), "train mode should use batch statistics");
    xa.destroy();
    xb.destroy();
    model.destroy();
  },
});
