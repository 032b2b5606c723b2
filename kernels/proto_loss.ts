/**
 * Prototypical-network loss on the GPU: prototypes (mean support embedding per class), logits
 * = negative squared distances, mean softmax cross-entropy, accuracy, and the gradient w.r.t.
 * every embedding. Rows are support (class-major, K per class) then query (class-major, Q per
 * class); query q has label q / Q.
 */
import type { Gpu } from "./device.ts";
import { Kernel } from "./kernel.ts";
import { Tensor } from "./tensor.ts";
import { type BoundOp, boundOp, expectDim } from "./bound_op.ts";
import protoSrc from "./proto_prototypes.wgsl" with { type: "text" };
import logitsSrc from "./proto_logits.wgsl" with { type: "text" };
import softmaxSrc from "./proto_softmax.wgsl" with { type: "text" };
import backwardSrc from "./proto_backward.wgsl" with { type: "text" };

const protoKernel = new Kernel("proto_prototypes", protoSrc);
const logitsKernel = new Kernel("proto_logits", logitsSrc);
const softmaxKernel = new Kernel("proto_softmax", softmaxSrc);
const backwardKernel = new Kernel("proto_backward", backwardSrc);

/** Episode layout: N classes, K support and Q query images per class. */
export interface EpisodeShape {
  nWay: number;
  kShot: number;
  nQuery: number;
}

/** Bound loss: outputs live in the tensors below and are rewritten by every run. */
export interface ProtoLossOp extends BoundOp {
  /** [N, D] */
  readonly prototypes: Tensor;
  /** [N*Q, N] */
  readonly logits: Tensor;
  /** [2]: loss, accuracy */
  readonly result: Tensor;
}

/**
 * Binds the loss (forward dispatches, then backward ones when `grad` is given).
 * @param embeddings [N*K + N*Q, D]
 * @param grad optional output dL/dembeddings [N*K + N*Q, D]
 */
export function protoLoss(
  gpu: Gpu,
  embeddings: Tensor,
  { nWay, kShot, nQuery }: EpisodeShape,
  grad?: Tensor,
): ProtoLossOp {
  const [rows, dim] = embeddings.shape;
  expectDim("proto_loss embedding rows (N*K + N*Q)", rows, nWay * (kShot + nQuery));
  expectDim("proto_loss embeddings rank", embeddings.shape.length, 2);
  if (nWay < 2 || kShot < 1 || nQuery < 1) {
    throw new RangeError(
      `proto_loss needs N >= 2, K >= 1, Q >= 1 (got ${nWay}, ${kShot}, ${nQuery})`,
    );
  }
  grad?.expectShape(embeddings.shape, "proto_loss grad");
  const nq = nWay * nQuery;
  const prototypes = Tensor.zeros(gpu, [nWay, dim], "proto:prototypes");
  const logits = Tensor.zeros(gpu, [nq, nWay], "proto:logits");
  const dlogits = Tensor.zeros(gpu, [nq, nWay], "proto:dlogits");
  const result = Tensor.zeros(gpu, [2], "proto:loss-acc");
  const dispatches = [
    protoKernel.bind(gpu, [embeddings, prototypes], { n_way: nWay, k_shot: kShot, dim }, [
      Math.ceil((nWay * dim) / 64),
    ]),
    logitsKernel.bind(
      gpu,
      [embeddings, prototypes, logits],
      { n_way: nWay, n_support: nWay * kShot, n_queries: nq, dim },
      [Math.ceil((nq * nWay) / 64)],
    ),
    softmaxKernel.bind(gpu, [logits, dlogits, result], { n_way: nWay, n_query: nQuery }, [1]),
  ];
  if (grad) {
    dispatches.push(backwardKernel.bind(
      gpu,
      [embeddings, prototypes, dlogits, grad],
      { n_way: nWay, k_shot: kShot, n_queries: nq, dim },
      [Math.ceil((rows * dim) / 64)],
    ));
  }
  const op = boundOp(dispatches, [prototypes, logits, dlogits, result]);
  return { ...op, prototypes, logits, result };
}
