// Broadcast and truncation of latents (StyleGAN2 truncation trick):
//   v = w[n * batch_stride + l * layer_stride + k]
//   ws[n, l, k] = l < cutoff ? avg[k] + psi * (v - avg[k]) : v
// layer_stride = 0 broadcasts one w per sample to every layer; psi = 1 copies.
// Mapping: one invocation per output value; the flat index runs over (n, l, k).
// No workgroup memory. Guarded: flat index past B * L * D.

struct Params {
  batch: u32,
  layers: u32,
  dim: u32,
  batch_stride: u32,
  layer_stride: u32,
  cutoff: u32,
  psi: f32,
}

override WG: u32 = 64u;

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> w: array<f32>; // [B, D] or [B, L, D]
@group(0) @binding(2) var<storage, read> avg: array<f32>; // [D]
@group(0) @binding(3) var<storage, read_write> ws: array<f32>; // [B, L, D]

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let t = gid.x;
  if (t >= p.batch * p.layers * p.dim) {
    return;
  }
  let k = t % p.dim;
  let l = (t / p.dim) % p.layers;
  let n = t / (p.dim * p.layers);
  let v = w[n * p.batch_stride + l * p.layer_stride + k];
  ws[t] = select(v, avg[k] + p.psi * (v - avg[k]), l < p.cutoff);
}
