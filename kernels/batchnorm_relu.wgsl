// Batch-norm apply with fused ReLU: z = max(0, scale[c] y + shift[c]) with (scale, shift) from
// batchnorm_finalize.wgsl (training or eval statistics alike).
// Mapping: workgroup_id.y is the plane b * C + c (so the channel's coefficients are uniform),
// gid.x runs over groups of 4 consecutive pixels of that plane (one vec4 load when VEC = 1,
// i.e. H * W % 4 == 0). Guarded: pixels past H * W.

struct Params {
  channels: u32,
  hw: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> y: array<f32>; // [B, C, H, W]
@group(0) @binding(2) var<storage, read> stats: array<vec4f>; // [C] (mean, invstd, scale, shift)
@group(0) @binding(3) var<storage, read_write> z: array<f32>; // [B, C, H, W]
@group(0) @binding(4) var<storage, read> y4: array<vec4f>; // the same y, as vec4s

override VEC: u32 = 0u;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(workgroup_id) wid: vec3u) {
  let s = stats[wid.y % p.channels];
  let base = wid.y * p.hw;
  let i0 = gid.x * 4u;
  if (VEC == 1u) {
    if (i0 < p.hw) {
      let v = max(vec4f(0.0), fma(vec4f(s.z), y4[(base + i0) / 4u], vec4f(s.w)));
      z[base + i0] = v.x;
      z[base + i0 + 1u] = v.y;
      z[base + i0 + 2u] = v.z;
      z[base + i0 + 3u] = v.w;
    }
    return;
  }
  for (var k = 0u; k < 4u; k++) {
    let i = i0 + k;
    if (i < p.hw) { z[base + i] = max(0.0, fma(s.z, y[base + i], s.w)); }
  }
}
