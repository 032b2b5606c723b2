// Batch-norm apply with fused ReLU: z = max(0, scale[c] y + shift[c]) with (scale, shift) from
// batchnorm_finalize.wgsl (training or eval statistics alike).
// Mapping: workgroup_id.y is the plane b * C + c (so the channel's coefficients are uniform),
// gid.x runs over groups of 4 consecutive pixels of that plane. Guarded: pixels past H * W.

struct Params {
  channels: u32,
  hw: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> y: array<f32>; // [B, C, H, W]
@group(0) @binding(2) var<storage, read> stats: array<vec4f>; // [C] (mean, invstd, scale, shift)
@group(0) @binding(3) var<storage, read_write> z: array<f32>; // [B, C, H, W]

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(workgroup_id) wid: vec3u) {
  let s = stats[wid.y % p.channels];
  let base = wid.y * p.hw;
  for (var k = 0u; k < 4u; k++) {
    let i = gid.x * 4u + k;
    if (i < p.hw) { z[base + i] = max(0.0, fma(s.z, y[base + i], s.w)); }
  }
}
