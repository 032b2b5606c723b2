// Pixel norm of latent rows (StyleGAN2 mapping input):
//   y[r, k] = x[r, k] / sqrt(mean_k(x[r, k]^2) + 1e-8)
// Mapping: one invocation per row (rows are short: z_dim values). No workgroup memory.
// Guarded: rows >= rows.

struct Params {
  rows: u32,
  dim: u32,
}

override WG: u32 = 64u;

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>; // [rows, dim]
@group(0) @binding(2) var<storage, read_write> y: array<f32>; // [rows, dim]

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let r = gid.x;
  if (r >= p.rows) {
    return;
  }
  let base = r * p.dim;
  var sum = 0.0;
  for (var k = 0u; k < p.dim; k++) {
    sum += x[base + k] * x[base + k];
  }
  let scale = inverseSqrt(sum / f32(p.dim) + 1e-8);
  for (var k = 0u; k < p.dim; k++) {
    y[base + k] = x[base + k] * scale;
  }
}
