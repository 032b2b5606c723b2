// 2x2 stride-2 max-pool, floor mode: out[b, c, r, q] = max_{dy, dx in {0,1}} z[b, c, 2r+dy, 2q+dx]
// Mapping: workgroup_id.y is the plane b * C + c, gid.x the output pixel of that plane, or with
// VEC = 1 (W % 4 == 0) a pair of neighbouring output pixels read as two vec4s (a CPU adapter
// pays per load, not per float). Guarded: pixels (pairs) past PH * PW (odd H, W drop the last
// row/column).

struct Params {
  height: u32,
  width: u32,
  ph: u32,
  pw: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> z: array<f32>; // [B, C, H, W]
@group(0) @binding(2) var<storage, read_write> out: array<f32>; // [B, C, PH, PW]
@group(0) @binding(3) var<storage, read> z4: array<vec4f>; // the same z, as vec4s

override VEC: u32 = 0u;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(workgroup_id) wid: vec3u) {
  if (VEC == 1u) {
    let pairs = p.pw / 2u;
    if (gid.x >= p.ph * pairs) { return; }
    let r = gid.x / pairs;
    let i = (wid.y * p.height + 2u * r) * p.width + 4u * (gid.x % pairs);
    let m = max(z4[i / 4u], z4[(i + p.width) / 4u]);
    let o = wid.y * p.ph * p.pw + 2u * gid.x;
    out[o] = max(m.x, m.y);
    out[o + 1u] = max(m.z, m.w);
    return;
  }
  if (gid.x >= p.ph * p.pw) { return; }
  let q = gid.x % p.pw;
  let r = gid.x / p.pw;
  let i = (wid.y * p.height + 2u * r) * p.width + 2u * q;
  out[wid.y * p.ph * p.pw + gid.x] =
    max(max(z[i], z[i + 1u]), max(z[i + p.width], z[i + p.width + 1u]));
}
