/**
 * Benchmark cases of the ProtoNet kernels at the Conv-4 shapes of a 5-way 1-shot 5-query
 * episode (B = 30 images) at 64x64: the 3x3 conv forward and both backward passes at each
 * block's input, training-mode batch norm + ReLU and the 2x2 max-pool at each block's conv
 * output, and the prototypical loss on the D = 64 · 4 · 4 embeddings.
 *
 * Shape legend: B batch, I input channels, O output channels (64), H, W spatial, D embedding.
 * Conv FLOPs: 2 · B · O · I · H · W · 9. Memory-bound bytes: see each case.
 */
import { Tensor } from "../kernels/tensor.ts";
import { Rng } from "../data/random.ts";
import { conv2d, conv2dBackwardData } from "../kernels/conv2d.ts";
import { conv2dBackwardWeight } from "../kernels/conv2d_backward_weight.ts";
import { batchnormRelu } from "../kernels/batchnorm.ts";
import { maxpool2d } from "../kernels/maxpool2d.ts";
import { protoLoss } from "../kernels/proto_loss.ts";
import { submit } from "../kernels/kernel.ts";
import {
  batchnormReluRef,
  channelStatsRef,
  conv2dBackwardRef,
  conv2dRef,
  maxpoolRef,
  protoLossRef,
} from "../kernels/reference/protonet_ref.ts";
import { type BenchCase, type BuiltCase, dims, relativeDiff } from "./_case.ts";

/** [B, I, H, W] of each Conv-4 block's input at 64x64. */
export const CONV4_INPUTS: readonly (readonly [number, number, number, number])[] = [
  [30, 3, 64, 64],
  [30, 64, 32, 32],
  [30, 64, 16, 16],
  [30, 64, 8, 8],
];
/** Channels of every Conv-4 block. */
export const CONV4_WIDTH = 64;
/** Images compared with the reference for the per-image ops (the reference is slow). */
const CHECK_IMAGES = 2;
/** Tolerance, relative to the largest reference value, of our float32 kernels. */
const TOL = 1e-4;

type Shape4 = readonly [number, number, number, number];

function _convData(shape: Shape4) {
  const [b, ci, h, w] = shape, rng = new Rng(7);
  const wv = rng.normals(CONV4_WIDTH * ci * 9);
  const scale = 1 / Math.sqrt(9 * ci);
  for (let i = 0; i < wv.length; i++) wv[i] *= scale;
  return {
    x: rng.normals(b * ci * h * w),
    w: wv,
    dy: rng.normals(b * CONV4_WIDTH * h * w),
    zero: new Float32Array(CONV4_WIDTH),
  };
}

/** Conv forward y = conv(x, w) (zero bias, so the peer's un-biased conv matches). */
function convForward(shape: Shape4): BenchCase {
  const [b, ci, h, w] = shape, o = CONV4_WIDTH;
  return {
    name: "conv_fwd",
    shape: `${dims(shape)} -> ${o}`,
    work: { flops: 2 * b * o * ci * h * w * 9 },
    build(gpu): BuiltCase {
      const d = _convData(shape);
      const x = Tensor.from(gpu, d.x, [b, ci, h, w], "bench.x");
      const wt = Tensor.from(gpu, d.w, [o, ci, 3, 3], "bench.w");
      const bias = Tensor.from(gpu, d.zero, [o], "bench.bias");
      const y = Tensor.zeros(gpu, [b, o, h, w], "bench.y");
      const op = conv2d(gpu, x, wt, bias, y);
      return {
        dispatches: op.dispatches,
        async check() {
          submit(gpu, op.dispatches, "check");
          const n = CHECK_IMAGES, got = await y.read();
          const want = conv2dRef(d.x.subarray(0, n * ci * h * w), d.w, d.zero, {
            b: n,
            c: ci,
            h,
            w,
          }, o);
          const rel = relativeDiff("conv_fwd", got.subarray(0, want.length), want, TOL);
          return `${n} images, ${rel.toExponential(1)}`;
        },
        output: () => y.read(),
        peer: (p) => p.conv2d({ batch: b, cin: ci, cout: o, height: h, width: w, x: d.x, w: d.w }),
        destroy() {
          op.destroy();
          [x, wt, bias, y].forEach((t) => t.destroy());
        },
      };
    },
  };
}

/** Conv backward data dx = convᵀ(dy, w). */
function convBackwardData(shape: Shape4): BenchCase {
  const [b, ci, h, w] = shape, o = CONV4_WIDTH;
  return {
    name: "conv_bwd_data",
    shape: `${dims(shape)} -> ${o}`,
    work: { flops: 2 * b * o * ci * h * w * 9 },
    build(gpu): BuiltCase {
      const d = _convData(shape);
      const dy = Tensor.from(gpu, d.dy, [b, o, h, w], "bench.dy");
      const wt = Tensor.from(gpu, d.w, [o, ci, 3, 3], "bench.w");
      const dx = Tensor.zeros(gpu, [b, ci, h, w], "bench.dx");
      const op = conv2dBackwardData(gpu, dy, wt, dx);
      return {
        dispatches: op.dispatches,
        async check() {
          submit(gpu, op.dispatches, "check");
          const n = CHECK_IMAGES, got = await dx.read();
          const xs = d.x.subarray(0, n * ci * h * w), dys = d.dy.subarray(0, n * o * h * w);
          const want = conv2dBackwardRef(xs, d.w, dys, { b: n, c: ci, h, w }, o).dx;
          const rel = relativeDiff("conv_bwd_data", got.subarray(0, want.length), want, TOL);
          return `${n} images, ${rel.toExponential(1)}`;
        },
        output: () => dx.read(),
        peer: (p) =>
          p.conv2dBackwardData({
            batch: b,
            cin: ci,
            cout: o,
            height: h,
            width: w,
            dy: d.dy,
            w: d.w,
          }),
        destroy() {
          op.destroy();
          [dy, wt, dx].forEach((t) => t.destroy());
        },
      };
    },
  };
}

/**
 * Conv backward weight dw, db. It sums over the batch, so it is checked at the full batch (the
 * float64 reference takes up to ~10 s at [30, 64, 32, 32]).
 */
function convBackwardWeight(shape: Shape4): BenchCase {
  const [b, ci, h, w] = shape, o = CONV4_WIDTH;
  return {
    name: "conv_bwd_weight",
    shape: `${dims(shape)} -> ${o}`,
    work: { flops: 2 * b * o * ci * h * w * 9 },
    build(gpu): BuiltCase {
      const d = _convData(shape);
      const x = Tensor.from(gpu, d.x, [b, ci, h, w], "bench.x");
      const dy = Tensor.from(gpu, d.dy, [b, o, h, w], "bench.dy");
      const dw = Tensor.zeros(gpu, [o, ci, 3, 3], "bench.dw");
      const db = Tensor.zeros(gpu, [o], "bench.db");
      const op = conv2dBackwardWeight(gpu, x, dy, dw, db);
      return {
        dispatches: op.dispatches,
        async check() {
          submit(gpu, op.dispatches, "check");
          const want = conv2dBackwardRef(d.x, d.w, d.dy, { b, c: ci, h, w }, o);
          const rel = Math.max(
            relativeDiff("conv_bwd_weight dw", await dw.read(), want.dw, TOL),
            relativeDiff("conv_bwd_weight db", await db.read(), want.db, TOL),
          );
          return `full, ${rel.toExponential(1)}`;
        },
        output: () => dw.read(),
        peer: (p) =>
          p.conv2dBackwardWeight({
            batch: b,
            cin: ci,
            cout: o,
            height: h,
            width: w,
            x: d.x,
            dy: d.dy,
          }),
        destroy() {
          op.destroy();
          [x, dy, dw, db].forEach((t) => t.destroy());
        },
      };
    },
  };
}

/**
 * Training-mode batch norm + ReLU (statistics, finalize, normalise). Bytes: the activation is
 * read twice (statistics, then normalising) and written once, 3 · 4 · B · C · H · W.
 */
function batchnorm(shape: Shape4): BenchCase {
  const [b, c, h, w] = shape;
  return {
    name: "batchnorm",
    shape: dims(shape),
    work: { bytes: 3 * 4 * b * c * h * w },
    build(gpu): BuiltCase {
      const rng = new Rng(3);
      const yv = rng.normals(b * c * h * w).map((v) => 2 * v + 0.5);
      const y = Tensor.from(gpu, yv, [b, c, h, w], "bench.y");
      const ones = new Float32Array(c).fill(1), zeros = new Float32Array(c);
      const gamma = Tensor.from(gpu, ones, [c], "bench.gamma");
      const beta = Tensor.from(gpu, zeros, [c], "bench.beta");
      const runMean = Tensor.from(gpu, zeros, [c], "bench.running_mean");
      const runVar = Tensor.from(gpu, ones, [c], "bench.running_var");
      const z = Tensor.zeros(gpu, [b, c, h, w], "bench.z");
      const op = batchnormRelu(gpu, y, gamma, beta, runMean, runVar, z, "train");
      return {
        dispatches: op.dispatches,
        async check() {
          submit(gpu, op.dispatches, "check");
          const dd = { b, c, h, w }, s = channelStatsRef(yv, dd);
          const want = batchnormReluRef(yv, dd, s.mean, s.variance, ones, zeros);
          return `full, ${relativeDiff("batchnorm", await z.read(), want, TOL).toExponential(1)}`;
        },
        output: () => z.read(),
        peer: (p) => p.batchnorm({ batch: b, channels: c, height: h, width: w, x: yv }),
        destroy() {
          op.destroy();
          [y, gamma, beta, runMean, runVar, z].forEach((t) => t.destroy());
        },
      };
    },
  };
}

/** 2x2 max-pool. Bytes: read B · C · H · W, write a quarter of that, 4 bytes each. */
function maxpool(shape: Shape4): BenchCase {
  const [b, c, h, w] = shape;
  return {
    name: "maxpool",
    shape: dims(shape),
    work: { bytes: 1.25 * 4 * b * c * h * w },
    build(gpu): BuiltCase {
      const zv = new Rng(4).normals(b * c * h * w);
      const z = Tensor.from(gpu, zv, [b, c, h, w], "bench.z");
      const out = Tensor.zeros(gpu, [b, c, h / 2, w / 2], "bench.pooled");
      const dispatch = maxpool2d(gpu, z, out);
      return {
        dispatches: [dispatch],
        async check() {
          submit(gpu, [dispatch], "check");
          const want = maxpoolRef(zv, { b, c, h, w });
          relativeDiff("maxpool", await out.read(), want, 0);
          return "full, exact";
        },
        output: () => out.read(),
        peer: (p) => p.maxpool({ batch: b, channels: c, height: h, width: w, x: zv }),
        destroy() {
          z.destroy();
          out.destroy();
        },
      };
    },
  };
}

/**
 * Prototypical loss, forward only (prototypes, logits, softmax cross entropy, as the peer
 * computes; training also binds the gradient). Bytes: the embeddings read once, 4 · B · D.
 */
function protoLossCase(nWay: number, kShot: number, nQuery: number, dim: number): BenchCase {
  const rows = nWay * (kShot + nQuery);
  return {
    name: "proto_loss",
    shape: `${nWay}-way ${kShot}-shot ${nQuery}-query, D ${dim}`,
    work: { bytes: 4 * rows * dim },
    build(gpu): BuiltCase {
      const ev = new Rng(5).normals(rows * dim).map((v) => 0.05 * v);
      const e = Tensor.from(gpu, ev, [rows, dim], "bench.embeddings");
      const op = protoLoss(gpu, e, { nWay, kShot, nQuery });
      const loss = async () => (await op.result.read()).subarray(0, 1);
      return {
        dispatches: op.dispatches,
        async check() {
          submit(gpu, op.dispatches, "check");
          const want = [protoLossRef(ev, nWay, kShot, nQuery, dim).loss];
          return `loss, ${relativeDiff("proto_loss", await loss(), want, TOL).toExponential(1)}`;
        },
        output: loss,
        peer: (p) => p.protoLoss({ nWay, kShot, nQuery, dim, e: ev }),
        destroy() {
          op.destroy();
          e.destroy();
        },
      };
    },
  };
}

/** Every ProtoNet case at the 64x64 episode shapes (`quick`: the smallest layer only). */
export function protonetCases(quick: boolean): BenchCase[] {
  const inputs = quick ? CONV4_INPUTS.slice(-1) : CONV4_INPUTS;
  // Batch norm and max-pool see each conv's output [B, 64, H, W].
  const outputs = inputs.map(([b, , h, w]) => [b, CONV4_WIDTH, h, w] as const);
  const side = CONV4_INPUTS[0][2] / 16;
  const proto = protoLossCase(5, 1, 5, CONV4_WIDTH * side * side);
  if (quick) return [convForward(inputs[0]), maxpool(outputs[0]), proto];
  return [
    ...inputs.flatMap((s) => [convForward(s), convBackwardData(s), convBackwardWeight(s)]),
    ...outputs.map(batchnorm),
    ...outputs.map(maxpool),
    proto,
  ];
}
