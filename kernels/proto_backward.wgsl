// Prototypical loss, step 4: gradient w.r.t. every embedding row (support then query):
//   query row s = N*K + q:  de[s, j] = -2 sum_c dlogits[q, c] (e[s, j] - protos[c, j])
//   support row s = c*K + k: de[s, j] = (2 / K) sum_q dlogits[q, c] (e[N*K + q, j] - protos[c, j])
// Mapping: one invocation per (s, j) of the flat [N*K + N*Q, D] output. Guarded: past the end.

struct Params {
  n_way: u32,
  k_shot: u32,
  n_queries: u32,
  dim: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> e: array<f32>; // [N*K + N*Q, D]
@group(0) @binding(2) var<storage, read> protos: array<f32>; // [N, D]
@group(0) @binding(3) var<storage, read> dlogits: array<f32>; // [N*Q, N]
@group(0) @binding(4) var<storage, read_write> de: array<f32>; // [N*K + N*Q, D]

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let ns = p.n_way * p.k_shot;
  let i = gid.x;
  if (i >= (ns + p.n_queries) * p.dim) { return; }
  let s = i / p.dim;
  let j = i % p.dim;
  var g = 0.0;
  if (s >= ns) {
    let q = s - ns;
    for (var c = 0u; c < p.n_way; c++) {
      g -= 2.0 * dlogits[q * p.n_way + c] * (e[i] - protos[c * p.dim + j]);
    }
  } else {
    let c = s / p.k_shot;
    let pc = protos[c * p.dim + j];
    for (var q = 0u; q < p.n_queries; q++) {
      g += dlogits[q * p.n_way + c] * (e[(ns + q) * p.dim + j] - pc);
    }
    g *= 2.0 / f32(p.k_shot);
  }
  de[i] = g;
}
