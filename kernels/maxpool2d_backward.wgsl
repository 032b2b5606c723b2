// Backward of the 2x2 stride-2 max-pool: each window's gradient goes to its first maximum in
// scan order (as PyTorch), every other input element gets 0:
//   dz[b, c, y, x] = dout[b, c, y/2, x/2] if (y, x) is the first argmax of its window, else 0.
// Mapping: workgroup_id.y is the plane b * C + c, gid.x a window (output pixel) of that plane;
// the invocation writes all 4 inputs of its window, and the windows on the last row/column
// also zero the leftover row/column of an odd-sized input, so every element is written once.
// With VEC = 1 (W % 4 == 0: no odd column) an invocation takes two neighbouring windows and
// reads their inputs as two vec4s. Guarded: windows (pairs) past PH * PW.

struct Params {
  height: u32,
  width: u32,
  ph: u32,
  pw: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> z: array<f32>; // [B, C, H, W] (pool input)
@group(0) @binding(2) var<storage, read> dout: array<f32>; // [B, C, PH, PW]
@group(0) @binding(3) var<storage, read_write> dz: array<f32>; // [B, C, H, W]
@group(0) @binding(4) var<storage, read> z4: array<vec4f>; // the same z, as vec4s

override VEC: u32 = 0u;

// Index (0 .. 3, scan order) of the first maximum of a window.
fn first_max(v: vec4f) -> u32 {
  var best = 0u;
  for (var k = 1u; k < 4u; k++) {
    if (v[k] > v[best]) { best = k; }
  }
  return best;
}

// Two windows at columns i, i + 1 (top row a, bottom row b) and i + 2, i + 3.
fn pair(top: u32, w: u32, a: vec4f, b: vec4f, g0: f32, g1: f32) {
  let b0 = first_max(vec4f(a.xy, b.xy));
  let b1 = first_max(vec4f(a.zw, b.zw));
  dz[top] = select(0.0, g0, b0 == 0u);
  dz[top + 1u] = select(0.0, g0, b0 == 1u);
  dz[top + 2u] = select(0.0, g1, b1 == 0u);
  dz[top + 3u] = select(0.0, g1, b1 == 1u);
  dz[top + w] = select(0.0, g0, b0 == 2u);
  dz[top + w + 1u] = select(0.0, g0, b0 == 3u);
  dz[top + w + 2u] = select(0.0, g1, b1 == 2u);
  dz[top + w + 3u] = select(0.0, g1, b1 == 3u);
}

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(workgroup_id) wid: vec3u) {
  if (VEC == 1u) {
    let pairs = p.pw / 2u;
    if (gid.x >= p.ph * pairs) { return; }
    let r = gid.x / pairs;
    let top = (wid.y * p.height + 2u * r) * p.width + 4u * (gid.x % pairs);
    let o = wid.y * p.ph * p.pw + 2u * gid.x;
    pair(top, p.width, z4[top / 4u], z4[(top + p.width) / 4u], dout[o], dout[o + 1u]);
    if (p.height > 2u * p.ph && r + 1u == p.ph) {
      for (var j = 0u; j < 4u; j++) { dz[top + 2u * p.width + j] = 0.0; }
    }
    return;
  }
  if (gid.x >= p.ph * p.pw) { return; }
  let q = gid.x % p.pw;
  let r = gid.x / p.pw;
  let plane = wid.y * p.height * p.width;
  let i0 = plane + 2u * r * p.width + 2u * q;
  let v = vec4f(z[i0], z[i0 + 1u], z[i0 + p.width], z[i0 + p.width + 1u]);
  let best = first_max(v);
  let g = dout[wid.y * p.ph * p.pw + gid.x];
  dz[i0] = select(0.0, g, best == 0u);
  dz[i0 + 1u] = select(0.0, g, best == 1u);
  dz[i0 + p.width] = select(0.0, g, best == 2u);
  dz[i0 + p.width + 1u] = select(0.0, g, best == 3u);
  let odd_w = p.width > 2u * p.pw && q + 1u == p.pw;
  let odd_h = p.height > 2u * p.ph && r + 1u == p.ph;
  if (odd_w) {
    dz[i0 + 2u] = 0.0;
    dz[i0 + p.width + 2u] = 0.0;
  }
  if (odd_h) {
    dz[i0 + 2u * p.width] = 0.0;
    dz[i0 + 2u * p.width + 1u] = 0.0;
  }
  if (odd_w && odd_h) { dz[i0 + 2u * p.width + 2u] = 0.0; }
}
