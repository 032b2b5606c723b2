// Nearest-prototype classification of evaluation episodes, in three passes.
//
//   prototypes: proto[e,c,d]  = (1/K) Σ_k emb[support[e,c,k], d]
//   distances:  dist[e,j,c]   = Σ_d (emb[query[e,j], d] − proto[e,c,d])²
//   decide:     correct[e,j]  = (argmin_c dist[e,j,c] == j / Q) ? 1 : 0   (first minimum wins)
//
// emb: [M, D] embeddings of every image of the evaluation set, computed once,
// so an image's embedding never depends on the episode (inductive evaluation).
// support: [E, N, K] and query: [E, N·Q] image indices into emb, class-major.
// One invocation per output element of each pass. Every loop runs at most
// max(K, D, N) times per invocation: Mesa's llvmpipe silently stops a loop
// after 65535 trips per invocation, so no invocation may loop over N·K·D.
// Guarded: invocations past the end of their output return.

struct Params { episodes: u32, way: u32, shot: u32, query: u32, dim: u32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> emb: array<f32>;            // [M, D]
@group(0) @binding(2) var<storage, read> support: array<u32>;        // [E, N, K]
@group(0) @binding(3) var<storage, read> queries: array<u32>;        // [E, N·Q]
@group(0) @binding(4) var<storage, read_write> proto: array<f32>;    // [E, N, D]
@group(0) @binding(5) var<storage, read_write> dist: array<f32>;     // [E, N·Q, N]
@group(0) @binding(6) var<storage, read_write> correct: array<f32>;  // [E, N·Q]

@compute @workgroup_size(64)
fn prototypes(@builtin(global_invocation_id) gid: vec3u) {
  let i = gid.x + gid.y * 65535u * 64u;
  if (i >= p.episodes * p.way * p.dim) { return; }
  let ec = i / p.dim;
  let d = i % p.dim;
  var sum = 0.0;
  for (var k = 0u; k < p.shot; k++) {
    sum += emb[support[ec * p.shot + k] * p.dim + d];
  }
  proto[i] = sum / f32(p.shot);
}

@compute @workgroup_size(64)
fn distances(@builtin(global_invocation_id) gid: vec3u) {
  let i = gid.x + gid.y * 65535u * 64u;
  let per = p.way * p.query;
  if (i >= p.episodes * per * p.way) { return; }
  let c = i % p.way;
  let ej = i / p.way;
  let e = ej / per;
  let q = queries[ej] * p.dim;
  let pr = (e * p.way + c) * p.dim;
  var s = 0.0;
  for (var d = 0u; d < p.dim; d++) {
    let diff = emb[q + d] - proto[pr + d];
    s += diff * diff;
  }
  dist[i] = s;
}

@compute @workgroup_size(64)
fn decide(@builtin(global_invocation_id) gid: vec3u) {
  let per = p.way * p.query;
  if (gid.x >= p.episodes * per) { return; }
  let j = gid.x % per;
  var best = dist[gid.x * p.way];
  var best_c = 0u;
  for (var c = 1u; c < p.way; c++) {
    let v = dist[gid.x * p.way + c];
    if (v < best) {
      best = v;
      best_c = c;
    }
  }
  correct[gid.x] = select(0.0, 1.0, best_c == j / p.query);
}
