// Adam update (PyTorch formula, bias-corrected), in place on one parameter array:
//   m = b1 m + (1 - b1) g,  v = b2 v + (1 - b2) g^2,
//   w -= lr (m / bc1) / (sqrt(v / bc2) + eps),  bc1 = 1 - b1^t, bc2 = 1 - b2^t
// bc1 and bc2 are computed on the CPU in float64 for step t (rewritten via setParams).
// Mapping: one invocation per element, flattened as gid.x + gid.y * stride_x.
// Guarded: elements past n.

struct Params {
  n: u32,
  stride_x: u32,
  step: u32,
  lr: f32,
  beta1: f32,
  beta2: f32,
  eps: f32,
  bc1: f32,
  bc2: f32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> w: array<f32>; // [n] parameter
@group(0) @binding(2) var<storage, read> g: array<f32>; // [n] gradient
@group(0) @binding(3) var<storage, read_write> m: array<f32>; // [n] first moment
@group(0) @binding(4) var<storage, read_write> v: array<f32>; // [n] second moment

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let i = gid.x + gid.y * p.stride_x;
  if (i >= p.n) { return; }
  let gi = g[i];
  let mi = p.beta1 * m[i] + (1.0 - p.beta1) * gi;
  let vi = p.beta2 * v[i] + (1.0 - p.beta2) * gi * gi;
  m[i] = mi;
  v[i] = vi;
  w[i] -= p.lr * (mi / p.bc1) / (sqrt(vi / p.bc2) + p.eps);
}
