/**
 * Self-test of the tfjs WebGPU peer: checks each op against our float64 references at small
 * shapes, then times each op at the ProtoNet / generator shapes (2 warm-ups, median of 5).
 * Usage: deno run --allow-read --allow-env bench/peer_tfjs_smoke.ts [--runs 5] [--warmup 2]
 *   [--no-check] [--only SUBSTRING]   (the full table takes ~4 minutes on llvmpipe)
 */
import { parseArgs } from "node:util";
import { initTfjsPeer, type PeerOp, type TfjsPeer } from "./peer_tfjs.ts";
import { Rng } from "../data/random.ts";
import { modconvRef } from "../kernels/reference/gan_ref.ts";
import {
  batchnormReluRef,
  channelStatsRef,
  conv2dBackwardRef,
  conv2dRef,
  maxpoolRef,
  protoLossRef,
} from "../kernels/reference/protonet_ref.ts";

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Infinity;
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/** Small-shape correctness of every op against the references; returns failures. */
async function checkAll(peer: TfjsPeer): Promise<number> {
  const rng = new Rng(7);
  const d = { b: 2, c: 3, h: 6, w: 8 }, cout = 4;
  const x = rng.normals(d.b * d.c * d.h * d.w), w = rng.normals(cout * d.c * 9);
  const dy = rng.normals(d.b * cout * d.h * d.w);
  const conv = { batch: d.b, cin: d.c, cout, height: d.h, width: d.w, x, w, dy };
  const grads = conv2dBackwardRef(x, w, dy, d, cout);
  const dOut = { b: d.b, c: cout, h: d.h, w: d.w };
  const stats = channelStatsRef(dy, dOut);
  const ones = new Float32Array(cout).fill(1), zeros = new Float32Array(cout);
  const a = rng.normals(5 * 7), bm = rng.normals(7 * 3);
  const mm = new Float64Array(15);
  for (let r = 0; r < 5; r++) {
    for (let c = 0; c < 3; c++) {
      for (let k = 0; k < 7; k++) mm[r * 3 + c] += a[r * 7 + k] * bm[k * 3 + c];
    }
  }
  const e = rng.normals(3 * (2 + 2) * 5);
  const cases: [PeerOp, ArrayLike<number>, number][] = [
    [peer.matmul(5, 7, 3, a, bm), mm, 1e-4],
    [peer.conv2d(conv), conv2dRef(x, w, zeros, d, cout), 1e-4],
    [peer.conv2dBackwardData(conv), grads.dx, 1e-4],
    [peer.conv2dBackwardWeight(conv), grads.dw, 1e-3],
    [
      peer.batchnorm({ batch: d.b, channels: cout, height: d.h, width: d.w, x: dy }),
      batchnormReluRef(dy, dOut, stats.mean, stats.variance, ones, zeros),
      1e-4,
    ],
    [
      peer.maxpool({ batch: d.b, channels: cout, height: d.h, width: d.w, x: dy }),
      maxpoolRef(dy, dOut),
      0,
    ],
    [
      peer.protoLoss({ nWay: 3, kShot: 2, nQuery: 2, dim: 5, e }),
      [protoLossRef(e, 3, 2, 2, 5).loss],
      1e-4,
    ],
  ];
  for (const up of [false, true]) {
    const s = rng.normals(d.b * d.c), bias = rng.normals(cout);
    const ho = up ? 2 * d.h : d.h, wo = up ? 2 * d.w : d.w;
    const noise = rng.normals(d.b * ho * wo);
    const f = new Float32Array(16).map((_, i) => [1, 3, 3, 1][i >> 2] * [1, 2, 3, 1][i & 3] / 56);
    const args = { batch: d.b, cin: d.c, cout, height: d.h, width: d.w, x, s, w, bias, noise };
    const ref = modconvRef({ ...args, strength: 0.3, clamp: 1.5, upFilter: up ? f : undefined });
    const op = peer.modconv({ ...args, strength: 0.3, clamp: 1.5, up, filter: f });
    cases.push([op, ref, 1e-4]);
  }
  const dim = 8, lrMul = 0.01, z = rng.normals(3 * dim);
  const weights = [0, 1].map(() => rng.normals(dim * dim).map((v) => v / lrMul));
  const biases = [0, 1].map(() => rng.normals(dim));
  let h: ArrayLike<number> = z;
  {
    const r = new Float64Array(z.length);
    for (let n = 0; n < 3; n++) {
      let ss = 0;
      for (let k = 0; k < dim; k++) ss += z[n * dim + k] ** 2;
      for (let k = 0; k < dim; k++) r[n * dim + k] = z[n * dim + k] / Math.sqrt(ss / dim + 1e-8);
    }
    h = r;
  }
  for (let l = 0; l < 2; l++) {
    const r = new Float64Array(3 * dim);
    for (let n = 0; n < 3; n++) {
      for (let j = 0; j < dim; j++) {
        let t = biases[l][j] * lrMul;
        for (let k = 0; k < dim; k++) {
          t += h[n * dim + k] * weights[l][j * dim + k] * lrMul / Math.sqrt(dim);
        }
        r[n * dim + j] = (t >= 0 ? t : 0.2 * t) * Math.SQRT2;
      }
    }
    h = r;
  }
  cases.push([peer.mapping({ batch: 3, dim, layers: 2, lrMul, z, weights, biases }), h, 1e-4]);
  let failures = 0;
  for (const [op, ref, tol] of cases) {
    const diff = maxDiff(await op.check(), ref);
    const ok = diff <= tol;
    if (!ok) failures++;
    console.log(
      `check ${op.name.padEnd(34)} max |diff| ${diff.toExponential(2)} ${ok ? "ok" : "FAIL"}`,
    );
    op.dispose();
  }
  return failures;
}

async function time(op: PeerOp, warmup: number, runs: number) {
  for (let i = 0; i < warmup; i++) await op.run();
  const ms: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await op.run();
    ms.push(performance.now() - t0);
  }
  ms.sort((p, q) => p - q);
  return { median: ms[ms.length >> 1], min: ms[0] };
}

if (import.meta.main) {
  const { values } = parseArgs({
    options: {
      runs: { type: "string", default: "5" },
      warmup: { type: "string", default: "2" },
      "no-check": { type: "boolean", default: false },
      only: { type: "string", default: "" },
    },
  });
  const init = await initTfjsPeer();
  if (!init.peer) {
    console.log(`peer unavailable: ${init.reason}`);
    Deno.exit(1);
  }
  const peer = init.peer;
  console.log(`peer: ${peer.description}`);
  const failures = values["no-check"] ? 0 : await checkAll(peer);
  const conv = (batch: number, cin: number, size: number) => ({
    batch,
    cin,
    cout: 64,
    height: size,
    width: size,
  });
  const img = (size: number) => ({ batch: 30, channels: 64, height: size, width: size });
  const ops: (() => PeerOp)[] = [
    () => peer.matmul(1024, 1024, 1024),
    ...[[3, 64], [64, 32], [64, 16], [64, 8]].flatMap(([cin, size]) => [
      () => peer.conv2d(conv(30, cin, size)),
      () => peer.conv2dBackwardData(conv(30, cin, size)),
      () => peer.conv2dBackwardWeight(conv(30, cin, size)),
    ]),
    () => peer.batchnorm(img(64)),
    () => peer.maxpool(img(64)),
    () => peer.protoLoss({ nWay: 5, kShot: 1, nQuery: 5, dim: 1024 }),
    () => peer.mapping(),
    () => peer.modconv({ batch: 30, cin: 128, cout: 128, height: 8, width: 8 }),
    () => peer.modconv({ batch: 30, cin: 128, cout: 64, height: 16, width: 16, up: true }),
    () => peer.modconv({ batch: 30, cin: 64, cout: 64, height: 32, width: 32 }),
    () => peer.modconv({ batch: 30, cin: 64, cout: 32, height: 32, width: 32, up: true }),
    () => peer.modconv({ batch: 30, cin: 32, cout: 32, height: 64, width: 64 }),
  ];
  const runs = Number(values.runs), warmup = Number(values.warmup);
  console.log(`${"op".padEnd(36)} median ms    min ms  GFLOP/s`);
  for (const make of ops) {
    const op = make();
    if (!op.name.includes(values.only)) {
      op.dispose();
      continue;
    }
    const t = await time(op, warmup, runs);
    const gflops = op.flops > 0 ? (op.flops / t.median / 1e6).toFixed(2) : "-";
    console.log(
      `${op.name.padEnd(36)} ${t.median.toFixed(1).padStart(9)} ${t.min.toFixed(1).padStart(9)} ` +
        gflops.padStart(8),
    );
    op.dispose();
  }
  console.log(`live tfjs tensors at exit: ${peer.liveTensors}`);
  if (failures > 0) Deno.exit(1);
}
