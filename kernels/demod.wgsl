// Demodulation coefficients of a modulated convolution (weights never modulated in memory):
//   d[n, o] = 1 / sqrt( sum_i s[n, i]^2 * wsq[o, i] + 1e-8 ),  wsq[o, i] = sum_uv W[o, i, u, v]^2
// wsq is precomputed once when the weights are loaded.
// Mapping: one invocation per (n, o); gid.x runs over o, gid.y over n. No workgroup memory.
// Guarded: o >= cout, n >= batch.

struct Params {
  batch: u32,
  cin: u32,
  cout: u32,
}

override WG: u32 = 64u;

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> s: array<f32>; // [B, I] styles
@group(0) @binding(2) var<storage, read> wsq: array<f32>; // [O, I]
@group(0) @binding(3) var<storage, read_write> d: array<f32>; // [B, O]

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let o = gid.x;
  let n = gid.y;
  if (o >= p.cout || n >= p.batch) {
    return;
  }
  var sum = 0.0;
  for (var i = 0u; i < p.cin; i++) {
    let sv = s[n * p.cin + i];
    sum = fma(sv * sv, wsq[o * p.cin + i], sum);
  }
  d[n * p.cout + o] = inverseSqrt(sum + 1e-8);
}
