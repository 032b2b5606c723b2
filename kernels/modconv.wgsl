// Modulated 3x3 convolution with the StyleGAN2 layer epilogue (same-size layer, conv1):
//   t[n, o, p, q] = d[n, o] * sum_{i, u, v} W[o, i, u, v] * s[n, i]
//                                           * x[n, i, p + u - 1, q + v - 1]
//   y = clamp( g(t + strength * noise[n, p, q] + bias[o]), -clamp, clamp ),
//   g(t) = sqrt(2) * (t >= 0 ? t : 0.2 t)
// The input is modulated by the style; d (demod.wgsl) scales the sum. W arrives packed as
// wt[(i * 9 + u * 3 + v) * cout4 + o / 4], a vec4 over 4 output channels, zero padded to
// cout4 * 4 channels.
// Mapping: one invocation computes a tile of (RB * 4) x (CB * 4) pixels for OG * 4 output
// channels, as RB * CB * OG blocks of 4 rows x 4 columns x 4 channels. workgroup_id.x is the
// channel tile (uniform weight reads); the flat index ((workgroup_id.z * groups_y +
// workgroup_id.y) * WG + local index) runs over (n, tile row, tile column). No workgroup
// memory. Per input channel the tile's RB * 4 + 2 input rows and OG * 9 weight vec4s are
// loaded once (loads dominate on CPU adapters), then each block row takes all 9 taps in turn.
// The block helpers (Wide, Row, Taps, Acc, block, cols) are in conv_tile.wgsl.
// Guarded: flat index past the tile count; rows and columns outside the image (read as 0);
// output channels >= cout (not stored). Requires H % (4 RB) == 0 and W % (4 CB) == 0.

struct Params {
  batch: u32,
  cin: u32,
  cout: u32,
  height: u32,
  width: u32,
  cout4: u32,
  strength: f32,
  clamp: f32,
  groups_y: u32,
}

override WG: u32 = 64u;

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>; // [B, I, H, W]
@group(0) @binding(2) var<storage, read> x4: array<vec4f>; // the same x, as vec4 of pixels
@group(0) @binding(3) var<storage, read> s: array<f32>; // [B, I] styles
@group(0) @binding(4) var<storage, read> wt: array<vec4f>; // [I, 9, cout4] packed
@group(0) @binding(5) var<storage, read> d: array<f32>; // [B, O] demodulation
@group(0) @binding(6) var<storage, read> bias: array<f32>; // [O]
@group(0) @binding(7) var<storage, read> noise: array<f32>; // [B, H, W]
@group(0) @binding(8) var<storage, read_write> y: array<f32>; // [B, O, H, W]

// vec4 groups between consecutive taps of the packed weights (conv_tile.wgsl's load_taps).
fn taps_stride() -> u32 {
  return p.cout4;
}

// Loads input row yy at columns k0 - 1 .. k0 + 4 CB of plane base b, scaled by sv, zero outside.
fn load_row(b: u32, yy: i32, k0: u32, sv: f32) -> Wide {
  let ok = yy >= 0 && yy < i32(p.height);
  let at = b + u32(clamp(yy, 0, i32(p.height) - 1)) * p.width + k0;
  let end = k0 + 4u * CB;
  let l = select(0.0, x[max(at, 1u) - 1u], ok && k0 > 0u);
  let m0 = select(vec4f(0.0), x4[at / 4u], ok);
  var m1 = vec4f(0.0);
  var r = 0.0;
  if (CB == 2u) {
    m1 = select(vec4f(0.0), x4[at / 4u + 1u], ok);
    r = select(0.0, x[at + 8u], ok && end < p.width);
  } else {
    m1.x = select(0.0, x[at + 4u], ok && end < p.width);
  }
  return Wide(l * sv, m0 * sv, m1 * sv, r * sv);
}

fn lrelu_clamp(t: f32) -> f32 {
  let g = select(0.2 * t, t, t >= 0.0) * 1.4142135623730951;
  return clamp(g, -p.clamp, p.clamp);
}

// Epilogue of one block row: 4 channels (rows of a) x 4 pixels (columns) at (m, k0); the
// noise of the 4 pixels is shared by the channels.
fn store_row(a: mat4x4f, n: u32, o0: u32, m: u32, k0: u32) {
  let nz = (n * p.height + m) * p.width + k0;
  let noise4 = p.strength * vec4f(noise[nz], noise[nz + 1u], noise[nz + 2u], noise[nz + 3u]);
  for (var q = 0u; q < 4u; q++) {
    let o = o0 + q;
    if (o < p.cout) {
      let v = transpose(a)[q] * d[n * p.cout + o] + noise4 + bias[o];
      let out = ((n * p.cout + o) * p.height + m) * p.width + k0;
      y[out] = lrelu_clamp(v.x);
      y[out + 1u] = lrelu_clamp(v.y);
      y[out + 2u] = lrelu_clamp(v.z);
      y[out + 3u] = lrelu_clamp(v.w);
    }
  }
}


@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) li: u32) {
  let tw = p.width / (4u * CB);
  let tiles = (p.height / (4u * RB)) * tw;
  let t = (wg.z * p.groups_y + wg.y) * WG + li;
  if (t >= p.batch * tiles) {
    return;
  }
  let n = t / tiles;
  let m0 = ((t % tiles) / tw) * 4u * RB;
  let k0 = ((t % tiles) % tw) * 4u * CB;
  let og = wg.x * OG;
  let hw = p.height * p.width;
  var acc = zero_tile();
  for (var i = 0u; i < p.cin; i++) {
    let sv = s[n * p.cin + i];
    acc = add_channel(acc, (n * p.cin + i) * hw, i32(m0), k0, sv, i * 9u * p.cout4 + og);
  }
  store_tile(acc, n, og * 4u, m0, k0);
}
