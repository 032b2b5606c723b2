// Style mixing of two latent stacks by a range of style inputs:
//   ws[n, l, k] = lo <= l < hi ? b[n, l, k] : a[n, l, k]
// Mapping: one invocation per output value; the flat index runs over (n, l, k).
// No workgroup memory. Guarded: flat index past B * L * D.

struct Params {
  total: u32,
  layers: u32,
  dim: u32,
  lo: u32,
  hi: u32,
}

override WG: u32 = 64u;

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> a: array<f32>; // [B, L, D]
@group(0) @binding(2) var<storage, read> b: array<f32>; // [B, L, D]
@group(0) @binding(3) var<storage, read_write> ws: array<f32>; // [B, L, D]

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let t = gid.x;
  if (t >= p.total) {
    return;
  }
  let l = (t / p.dim) % p.layers;
  ws[t] = select(a[t], b[t], l >= p.lo && l < p.hi);
}
