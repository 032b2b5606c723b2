// 2x2 stride-2 max-pool, floor mode: out[b, c, r, q] = max_{dy, dx in {0,1}} z[b, c, 2r+dy, 2q+dx]
// Mapping: workgroup_id.y is the plane b * C + c, gid.x the output pixel of that plane.
// Guarded: pixels past PH * PW (odd H, W drop the last row/column).

struct Params {
  height: u32,
  width: u32,
  ph: u32,
  pw: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> z: array<f32>; // [B, C, H, W]
@group(0) @binding(2) var<storage, read_write> out: array<f32>; // [B, C, PH, PW]

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(workgroup_id) wid: vec3u) {
  if (gid.x >= p.ph * p.pw) { return; }
  let q = gid.x % p.pw;
  let r = gid.x / p.pw;
  let i = (wid.y * p.height + 2u * r) * p.width + 2u * q;
  out[wid.y * p.ph * p.pw + gid.x] =
    max(max(z[i], z[i + 1u]), max(z[i + p.width], z[i + p.width + 1u]));
}
