/**
 * Nearest-prototype accuracy of many evaluation episodes in one dispatch,
 * over embeddings computed once for the whole evaluation set.
 */
import type { Gpu } from "./device.ts";
import { type Dispatch, groups, Kernel } from "./kernel.ts";
import type { Tensor } from "./tensor.ts";
import src from "./proto_classify.wgsl" with { type: "text" };

const kernels = {
  prototypes: new Kernel("proto_classify.prototypes", src, "prototypes"),
  distances: new Kernel("proto_classify.distances", src, "distances"),
  decide: new Kernel("proto_classify.decide", src, "decide"),
};

/** A 2-D grid of 64-wide workgroups covering `n` invocations (row stride 65535·64). */
function grid(n: number): [number, number] {
  const g = groups(n, 64);
  return [Math.min(g, 65535), Math.ceil(g / 65535)];
}

/**
 * Binds classification of E episodes: three dispatches (prototypes,
 * distances, decision) over scratch tensors the caller owns.
 * @param emb [M, D] embeddings
 * @param support [E, N, K] u32 indices into emb
 * @param query [E, N·Q] u32 indices into emb, class-major
 * @param proto [E, N, D] scratch for the prototypes
 * @param dist [E, N·Q, N] scratch for the squared distances
 * @param correct [E, N·Q] output: 1 where the query is classified correctly
 */
export function bindProtoClassify(
  gpu: Gpu,
  emb: Tensor,
  support: Tensor,
  query: Tensor,
  proto: Tensor,
  dist: Tensor,
  correct: Tensor,
): Dispatch[] {
  const [e, way, shot] = support.shape;
  const per = query.shape[1];
  const dim = emb.shape[1];
  query.expectShape([e, -1], "proto_classify query indices");
  proto.expectShape([e, way, dim], "proto_classify prototypes");
  dist.expectShape([e, per, way], "proto_classify distances");
  correct.expectShape([e, per], "proto_classify output");
  if (per % way !== 0) {
    throw new RangeError(`proto_classify: ${per} queries per episode is not a multiple of ${way}`);
  }
  const params = { episodes: e, way, shot, query: per / way, dim };
  // Bindings 1-6 are emb, support, query, proto, dist, correct; each pass binds what it reads.
  const _ = undefined;
  return [
    kernels.prototypes.bind(gpu, [emb, support, _, proto], params, grid(e * way * dim)),
    kernels.distances.bind(gpu, [emb, _, query, proto, dist], params, grid(e * per * way)),
    kernels.decide.bind(gpu, [_, _, _, _, dist, correct], params, [groups(e * per, 64)]),
  ];
}

/** Reference: fraction of correct queries per episode, float64. */
export function protoClassifyReference(
  emb: Float32Array,
  dim: number,
  support: Uint32Array,
  query: Uint32Array,
  episodes: number,
  way: number,
  shot: number,
  perClass: number,
): Float64Array {
  const acc = new Float64Array(episodes);
  for (let e = 0; e < episodes; e++) {
    const protos = Array.from({ length: way }, (_, c) => {
      const p = new Float64Array(dim);
      for (let k = 0; k < shot; k++) {
        const i = support[(e * way + c) * shot + k];
        for (let d = 0; d < dim; d++) p[d] += emb[i * dim + d] / shot;
      }
      return p;
    });
    let hits = 0;
    for (let j = 0; j < way * perClass; j++) {
      const q = query[e * way * perClass + j];
      let best = Infinity, bestC = 0;
      protos.forEach((p, c) => {
        let s = 0;
        for (let d = 0; d < dim; d++) s += (emb[q * dim + d] - p[d]) ** 2;
        if (s < best) [best, bestC] = [s, c];
      });
      if (bestC === Math.floor(j / perClass)) hits++;
    }
    acc[e] = hits / (way * perClass);
  }
  return acc;
}
