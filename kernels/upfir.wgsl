// 2x up-sampling of the skip image with a 4x4 FIR filter (StyleGAN2 upfirdn2d, up = 2,
// padding (2, 1), gain 4):
//   y[n, c, p, q] = sum_{m, k} x[n, c, m, k] * g[p + 1 - 2m, q + 1 - 2k],   g = 4 f
// terms whose filter index falls outside 0..3 are dropped (at most 2 x 2 terms remain).
// Mapping: one invocation per output value; the flat index runs over (n, c, p, q).
// No workgroup memory. Guarded: flat index past the end; input pixels outside the image.

struct Params {
  planes: u32,
  height: u32,
  width: u32,
  stride_x: u32,
}

override WG: u32 = 64u;

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>; // [B, C, H, W]
@group(0) @binding(2) var<storage, read> g: array<f32>; // [4, 4] filter times gain 4
@group(0) @binding(3) var<storage, read_write> y: array<f32>; // [B, C, 2H, 2W]

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let wo = 2u * p.width;
  let per_plane = 4u * p.height * p.width;
  let t = gid.x + gid.y * p.stride_x;
  if (t >= p.planes * per_plane) {
    return;
  }
  let plane = t / per_plane;
  let oy = i32((t % per_plane) / wo);
  let ox = i32((t % per_plane) % wo);
  let h = i32(p.height);
  let w = i32(p.width);
  var acc = 0.0;
  for (var e = -1; e <= 1; e++) {
    let m = oy / 2 + e;
    let fy = oy + 1 - 2 * m;
    for (var f = -1; f <= 1; f++) {
      let k = ox / 2 + f;
      let fx = ox + 1 - 2 * k;
      let ok = m >= 0 && m < h && k >= 0 && k < w && fy >= 0 && fy < 4 && fx >= 0 && fx < 4;
      if (ok) {
        acc += x[plane * u32(h * w) + u32(m * w + k)] * g[u32(fy * 4 + fx)];
      }
    }
  }
  y[t] = acc;
}
