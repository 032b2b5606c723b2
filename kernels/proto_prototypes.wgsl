// Prototypical loss, step 1: class prototypes from the support embeddings (class-major rows):
//   protos[c, j] = (1 / K) sum_k e[c * K + k, j]
// Mapping: one invocation per (c, j) of the flat [N, D] output. Guarded: elements past N * D.

struct Params {
  n_way: u32,
  k_shot: u32,
  dim: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> e: array<f32>; // [N*K + N*Q, D]
@group(0) @binding(2) var<storage, read_write> protos: array<f32>; // [N, D]

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let i = gid.x;
  if (i >= p.n_way * p.dim) { return; }
  let c = i / p.dim;
  let j = i % p.dim;
  var s = 0.0;
  for (var k = 0u; k < p.k_shot; k++) { s += e[(c * p.k_shot + k) * p.dim + j]; }
  protos[i] = s / f32(p.k_shot);
}
