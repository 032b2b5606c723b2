// Prototypical loss, step 2: logits[q, c] = -sum_j (e[N*K + q, j] - protos[c, j])^2
// Mapping: one invocation per (q, c) of the flat [N*Q, N] output, looping over D.
// Guarded: elements past N*Q * N.

struct Params {
  n_way: u32,
  n_support: u32,
  n_queries: u32,
  dim: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> e: array<f32>; // [N*K + N*Q, D]
@group(0) @binding(2) var<storage, read> protos: array<f32>; // [N, D]
@group(0) @binding(3) var<storage, read_write> logits: array<f32>; // [N*Q, N]

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let i = gid.x;
  if (i >= p.n_queries * p.n_way) { return; }
  let q = i / p.n_way;
  let c = i % p.n_way;
  let row = (p.n_support + q) * p.dim;
  var s = 0.0;
  for (var j = 0u; j < p.dim; j++) {
    let d = e[row + j] - protos[c * p.dim + j];
    s = fma(d, d, s);
  }
  logits[i] = -s;
}
