// 3x3 convolution, padding 1, stride 1, with bias (NCHW):
//   y[n, o, r, c] = bias[o] + sum_{i, u, v} w[o, i, u, v] * x[n, i, r + u - 1, c + v - 1]
// Weights arrive pre-packed by conv2d_pack.wgsl as wt[(i * 9 + u * 3 + v) * op4 + o / 4] (vec4
// over 4 output channels, zero padded to op4 groups), so a flipped and transposed pack turns this
// same kernel into the data gradient.
// Mapping: one invocation computes a tile of (RB * 4) x (CB * 4) pixels for OG * 4 output
// channels, as RB * CB * OG blocks of 4 rows x 4 columns x 4 channels (conv_tile.wgsl, prepended
// by conv2d.ts, has the block helpers). workgroup_id.x is the channel tile, so weight reads are
// uniform across a workgroup; the flat index ((workgroup_id.z * groups_y + workgroup_id.y) * WG
// + local index) runs over (image, tile row, tile column). No workgroup memory: per input
// channel the tile's RB * 4 + 2 input rows (vec4 loads when VEC = 1, i.e. W % 4 == 0) and
// OG * 9 weight vec4s are loaded once into registers, then reused by every block.
// Guarded: flat index past the tile count; rows and columns outside the image (read as 0);
// rows, columns and output channels past H, W, Cout (computed, not stored).

struct Params {
  batch: u32,
  cin: u32,
  cout: u32,
  height: u32,
  width: u32,
  op4: u32,
  tiles_x: u32,
  tiles: u32,
  groups_y: u32,
}

override WG: u32 = 64u;
override VEC: u32 = 1u; // 1 when W % 4 == 0: whole rows of vec4s

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>; // [B, Cin, H, W]
@group(0) @binding(2) var<storage, read> x4: array<vec4f>; // the same x, as vec4s of pixels
@group(0) @binding(3) var<storage, read> wt: array<vec4f>; // [Cin, 9, op4] packed
@group(0) @binding(4) var<storage, read> bias: array<f32>; // [Cout]
@group(0) @binding(5) var<storage, read_write> y: array<f32>; // [B, Cout, H, W]

// vec4 groups between consecutive taps of the packed weights (conv_tile.wgsl's load_taps).
fn taps_stride() -> u32 {
  return p.op4;
}

// x at column col of the row starting at rb; 0 past the right edge or when !ok.
fn fetch(rb: u32, col: u32, ok: bool) -> f32 {
  return select(0.0, x[rb + min(col, p.width - 1u)], ok && col < p.width);
}

// x at columns col .. col + 3 (col a multiple of 4).
fn fetch4(rb: u32, col: u32, ok: bool) -> vec4f {
  if (VEC == 1u) {
    // W % 4 == 0, so a vec4 is wholly inside the row or wholly past its end.
    return select(vec4f(0.0), x4[(rb + min(col, p.width - 4u)) / 4u], ok && col < p.width);
  }
  return vec4f(fetch(rb, col, ok), fetch(rb, col + 1u, ok), fetch(rb, col + 2u, ok),
               fetch(rb, col + 3u, ok));
}

// Input row yy of the plane starting at `plane`, columns k0 - 1 .. k0 + 4 CB, zero outside
// (`scale` is for modconv's signature: conv2d passes 1).
fn load_row(plane: u32, yy: i32, k0: u32, scale: f32) -> Wide {
  let ok = yy >= 0 && yy < i32(p.height);
  let rb = plane + u32(clamp(yy, 0, i32(p.height) - 1)) * p.width;
  let l = select(0.0, x[rb + max(k0, 1u) - 1u], ok && k0 > 0u);
  let m0 = fetch4(rb, k0, ok);
  var m1 = vec4f(0.0);
  var r = 0.0;
  if (CB == 2u) {
    m1 = fetch4(rb, k0 + 4u, ok);
    r = fetch(rb, k0 + 8u, ok);
  } else {
    m1.x = fetch(rb, k0 + 4u, ok);
  }
  return Wide(l * scale, m0 * scale, m1 * scale, r * scale);
}

// Bias and store of one block row: 4 channels (rows of a) x 4 pixels (columns) at (m, k0).
fn store_row(a: mat4x4f, n: u32, o0: u32, m: u32, k0: u32) {
  if (m >= p.height) {
    return;
  }
  let t = transpose(a);
  for (var q = 0u; q < 4u; q++) {
    let o = o0 + q;
    if (o < p.cout) {
      let v = t[q] + bias[o];
      let out = ((n * p.cout + o) * p.height + m) * p.width + k0;
      for (var j = 0u; j < 4u; j++) {
        if (k0 + j < p.width) {
          y[out + j] = v[j];
        }
      }
    }
  }
}


@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) li: u32) {
  let t = (wg.z * p.groups_y + wg.y) * WG + li;
  if (t >= p.batch * p.tiles) {
    return;
  }
  let n = t / p.tiles;
  let m0 = ((t % p.tiles) / p.tiles_x) * 4u * RB;
  let k0 = ((t % p.tiles) % p.tiles_x) * 4u * CB;
  let og = wg.x * OG;
  let hw = p.height * p.width;
  var acc = zero_tile();
  for (var i = 0u; i < p.cin; i++) {
    acc = add_channel(acc, (n * p.cin + i) * hw, i32(m0), k0, 1.0, i * 9u * p.op4 + og);
  }
  store_tile(acc, n, og * 4u, m0, k0);
}
