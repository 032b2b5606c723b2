// Nearest-prototype classification of evaluation episodes.
//
//   proto[e,c]   = (1/K) Σ_k emb[support[e,c,k]]
//   pred[e,j]    = argmin_c ‖emb[query[e,j]] − proto[e,c]‖²   (first minimum wins)
//   correct[e,j] = pred[e,j] == j / Q ? 1 : 0
//
// emb: [M, D] embeddings of every image of the evaluation set, computed once,
// so an image's embedding never depends on the episode (inductive evaluation).
// support: [E, N, K] and query: [E, N·Q] image indices into emb, class-major.
// One invocation per (episode, query); prototypes are recomputed per query,
// which costs N·K·D reads but needs no workgroup memory. Guarded: j ≥ E·N·Q.

struct Params { episodes: u32, way: u32, shot: u32, query: u32, dim: u32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> emb: array<f32>;          // [M, D]
@group(0) @binding(2) var<storage, read> support: array<u32>;      // [E, N, K]
@group(0) @binding(3) var<storage, read> queries: array<u32>;      // [E, N·Q]
@group(0) @binding(4) var<storage, read_write> correct: array<f32>; // [E, N·Q]

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let per = p.way * p.query;
  if (gid.x >= p.episodes * per) { return; }
  let e = gid.x / per;
  let j = gid.x % per;
  let qrow = queries[gid.x] * p.dim;
  let inv_k = 1.0 / f32(p.shot);
  var best = 3.4e38;
  var best_c = 0u;
  for (var c = 0u; c < p.way; c++) {
    let sbase = (e * p.way + c) * p.shot;
    var dist = 0.0;
    for (var d = 0u; d < p.dim; d++) {
      var proto = 0.0;
      for (var k = 0u; k < p.shot; k++) {
        proto += emb[support[sbase + k] * p.dim + d];
      }
      let diff = emb[qrow + d] - proto * inv_k;
      dist += diff * diff;
    }
    if (dist < best) {
      best = dist;
      best_c = c;
    }
  }
  correct[gid.x] = select(0.0, 1.0, best_c == j / p.query);
}
