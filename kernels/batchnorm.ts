/**
 * Batch norm (training statistics or running statistics) with fused ReLU, and its backward.
 * Training statistics are reduced in two passes (per-chunk centred sums, then Chan's merge),
 * and running statistics are updated as PyTorch does (momentum, unbiased variance).
 */
import type { Gpu } from "./device.ts";
import { Kernel } from "./kernel.ts";
import { Tensor } from "./tensor.ts";
import { type BoundOp, boundOp } from "./bound_op.ts";
import statsSrc from "./batchnorm_stats.wgsl" with { type: "text" };
import finalizeSrc from "./batchnorm_finalize.wgsl" with { type: "text" };
import reluSrc from "./batchnorm_relu.wgsl" with { type: "text" };
import backwardSrc from "./batchnorm_backward.wgsl" with { type: "text" };
import backwardFinalizeSrc from "./batchnorm_backward_finalize.wgsl" with { type: "text" };
import backwardApplySrc from "./batchnorm_backward_apply.wgsl" with { type: "text" };

const statsKernel = new Kernel("batchnorm_stats", statsSrc);
const finalizeKernel = new Kernel("batchnorm_finalize", finalizeSrc);
const reluKernel = new Kernel("batchnorm_relu", reluSrc);
const backwardKernel = new Kernel("batchnorm_backward", backwardSrc);
const backwardFinalizeKernel = new Kernel("batchnorm_backward_finalize", backwardFinalizeSrc);
const backwardApplyKernel = new Kernel("batchnorm_backward_apply", backwardApplySrc);

/** Longest contiguous pixel run one invocation reduces. */
const CHUNK_LEN = 256;

/** Batch-norm options (PyTorch defaults). */
export interface BatchnormOptions {
  eps?: number;
  momentum?: number;
}

/** A bound batch-norm forward; `stats` [C, 4] holds (mean, invstd, scale, shift) per channel. */
export interface BatchnormOp extends BoundOp {
  readonly stats: Tensor;
}

function _chunking(shape: readonly number[]) {
  const [batch, channels, h, w] = shape;
  const hw = h * w;
  const chunkLen = Math.min(hw, CHUNK_LEN);
  const chunksPerPlane = Math.ceil(hw / chunkLen);
  const chunks = batch * chunksPerPlane;
  const wg = Math.min(64, 2 ** Math.ceil(Math.log2(chunks)));
  // vec4 loads need every plane and every chunk to start on a vec4 (CHUNK_LEN is one).
  const vec = hw % 4 === 0 ? 1 : 0;
  return { batch, channels, hw, chunkLen, chunksPerPlane, chunks, wg, vec };
}

/** Elementwise passes: one workgroup row per plane (b, c), 4 pixels per invocation. */
function _planeGrid(shape: readonly number[]): [number, number] {
  const [batch, channels, h, w] = shape;
  return [Math.ceil((h * w) / 256), batch * channels];
}

/**
 * z = relu(batchnorm(y)). `mode` "train" normalises with the batch statistics (biased variance)
 * and updates `runMean`/`runVar` in place; "eval" normalises with the running statistics.
 * @param y conv output [B, C, H, W]
 * @param gamma [C], beta [C] affine parameters
 * @param runMean [C], runVar [C] running statistics
 * @param z output [B, C, H, W]
 */
export function batchnormRelu(
  gpu: Gpu,
  y: Tensor,
  gamma: Tensor,
  beta: Tensor,
  runMean: Tensor,
  runVar: Tensor,
  z: Tensor,
  mode: "train" | "eval",
  { eps = 1e-5, momentum = 0.1 }: BatchnormOptions = {},
): BatchnormOp {
  const ch = _chunking(y.shape);
  const { channels, hw, chunks } = ch;
  for (const [t, what] of [[gamma, "gamma"], [beta, "beta"], [runMean, "running_mean"]] as const) {
    t.expectShape([channels], `batchnorm ${what}`);
  }
  runVar.expectShape([channels], "batchnorm running_var");
  z.expectShape(y.shape, "batchnorm output");
  const stats = Tensor.zeros(gpu, [channels, 4], `${z.label}:bn-stats`);
  const part = Tensor.zeros(gpu, [channels, chunks, 2], `${z.label}:bn-partials`);
  const dispatches = [];
  const shapeParams = {
    channels,
    hw,
    chunk_len: ch.chunkLen,
    chunks_per_plane: ch.chunksPerPlane,
    chunks,
  };
  if (mode === "train") {
    dispatches.push(statsKernel.bind(gpu, [y, part, y], shapeParams, [
      Math.ceil(chunks / ch.wg),
      channels,
    ], { WG: ch.wg, VEC: ch.vec }));
  }
  dispatches.push(finalizeKernel.bind(
    gpu,
    [part, gamma, beta, runMean, runVar, stats],
    { ...shapeParams, count: ch.batch * hw, mode: mode === "train" ? 0 : 1, eps, momentum },
    [Math.ceil(channels / 64)],
  ));
  dispatches.push(
    reluKernel.bind(gpu, [y, stats, z, y], { channels, hw }, _planeGrid(y.shape), {
      VEC: ch.vec,
    }),
  );
  return { ...boundOp(dispatches, [stats, part]), stats };
}

/**
 * Backward of z = relu(batchnorm_train(y)): dy (input gradient) and dgamma, dbeta (overwritten).
 * @param y conv output [B, C, H, W] the forward saw
 * @param dz gradient of z [B, C, H, W]
 * @param stats [C, 4] from the training-mode `batchnormRelu`
 * @param dy output [B, C, H, W]; may not alias dz
 * @param dgamma [C], dbeta [C]
 */
export function batchnormReluBackward(
  gpu: Gpu,
  y: Tensor,
  dz: Tensor,
  stats: Tensor,
  dy: Tensor,
  dgamma: Tensor,
  dbeta: Tensor,
): BoundOp {
  const ch = _chunking(y.shape);
  const { channels, hw, chunks } = ch;
  dz.expectShape(y.shape, "batchnorm_backward dz");
  dy.expectShape(y.shape, "batchnorm_backward dy");
  stats.expectShape([channels, 4], "batchnorm_backward stats");
  dgamma.expectShape([channels], "batchnorm_backward dgamma");
  dbeta.expectShape([channels], "batchnorm_backward dbeta");
  const part = Tensor.zeros(gpu, [channels, chunks, 2], `${dy.label}:bn-bwd-partials`);
  const partial = backwardKernel.bind(
    gpu,
    [y, dz, stats, part, y, dz],
    {
      channels,
      hw,
      chunk_len: ch.chunkLen,
      chunks_per_plane: ch.chunksPerPlane,
      chunks,
    },
    [Math.ceil(chunks / ch.wg), channels],
    { WG: ch.wg, VEC: ch.vec },
  );
  const fin = backwardFinalizeKernel.bind(gpu, [part, dgamma, dbeta], { channels, chunks }, [
    Math.ceil(channels / 64),
  ]);
  const apply = backwardApplyKernel.bind(
    gpu,
    [y, dz, stats, dgamma, dbeta, dy, y, dz],
    {
      channels,
      hw,
      count: ch.batch * hw,
    },
    _planeGrid(y.shape),
    { VEC: ch.vec },
  );
  return boundOp([partial, fin, apply], [part]);
}
