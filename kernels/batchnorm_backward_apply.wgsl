// Batch-norm + ReLU backward, input gradient (training statistics):
//   dy = scale / n * (n g - dbeta[c] - xhat dgamma[c]),  g = dz [scale y + shift > 0],
//   xhat = (y - mean) invstd, n = B * H * W, stats[c] = (mean, invstd, scale, shift).
// Mapping: workgroup_id.y is the plane b * C + c (channel values uniform), gid.x runs over
// groups of 4 consecutive pixels of that plane. Guarded: pixels past H * W.

struct Params {
  channels: u32,
  hw: u32,
  count: f32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> y: array<f32>; // [B, C, H, W]
@group(0) @binding(2) var<storage, read> dz: array<f32>; // [B, C, H, W]
@group(0) @binding(3) var<storage, read> stats: array<vec4f>; // [C]
@group(0) @binding(4) var<storage, read> dgamma: array<f32>; // [C]
@group(0) @binding(5) var<storage, read> dbeta: array<f32>; // [C]
@group(0) @binding(6) var<storage, read_write> dy: array<f32>; // [B, C, H, W]
@group(0) @binding(7) var<storage, read> y4: array<vec4f>; // the same y, as vec4s
@group(0) @binding(8) var<storage, read> dz4: array<vec4f>; // the same dz, as vec4s

override VEC: u32 = 0u; // 1 when H * W % 4 == 0: vec4 loads

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(workgroup_id) wid: vec3u) {
  let c = wid.y % p.channels;
  let s = stats[c];
  let k0 = s.z / p.count;
  let db = dbeta[c];
  let dg = dgamma[c];
  let base = wid.y * p.hw;
  let i0 = gid.x * 4u;
  if (VEC == 1u) {
    if (i0 < p.hw) {
      let v = y4[(base + i0) / 4u];
      let on = fma(vec4f(s.z), v, vec4f(s.w)) > vec4f(0.0);
      let g = select(vec4f(0.0), dz4[(base + i0) / 4u], on);
      let d = k0 * (p.count * g - db - (v - s.x) * s.y * dg);
      dy[base + i0] = d.x;
      dy[base + i0 + 1u] = d.y;
      dy[base + i0 + 2u] = d.z;
      dy[base + i0 + 3u] = d.w;
    }
    return;
  }
  for (var k = 0u; k < 4u; k++) {
    let i = i0 + k;
    if (i < p.hw) {
      let v = y[base + i];
      let g = select(0.0, dz[base + i], fma(s.z, v, s.w) > 0.0);
      dy[base + i] = k0 * (p.count * g - db - (v - s.x) * s.y * dg);
    }
  }
}
