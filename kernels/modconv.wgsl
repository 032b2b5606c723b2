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
override OG: u32 = 2u; // vec4 channel groups per invocation: 1 or 2
override CB: u32 = 1u; // 4-column blocks per invocation: 1 or 2
override RB: u32 = 1u; // 4-row blocks per invocation: 1 or 2

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>; // [B, I, H, W]
@group(0) @binding(2) var<storage, read> x4: array<vec4f>; // the same x, as vec4 of pixels
@group(0) @binding(3) var<storage, read> s: array<f32>; // [B, I] styles
@group(0) @binding(4) var<storage, read> wt: array<vec4f>; // [I, 9, cout4] packed
@group(0) @binding(5) var<storage, read> d: array<f32>; // [B, O] demodulation
@group(0) @binding(6) var<storage, read> bias: array<f32>; // [O]
@group(0) @binding(7) var<storage, read> noise: array<f32>; // [B, H, W]
@group(0) @binding(8) var<storage, read_write> y: array<f32>; // [B, O, H, W]

// Input row over the tile's columns: x[k0 - 1], x[k0 .. k0 + 3], x[k0 + 4 .. k0 + 7],
// x[k0 + 8] (with CB = 1 only m1.x = x[k0 + 4] is read).
struct Wide {
  l: f32,
  m0: vec4f,
  m1: vec4f,
  r: f32,
}

// The 6 inputs one 4-column block reads from a row: x[k - 1], x[k .. k + 3], x[k + 4].
struct Row {
  l: f32,
  m: vec4f,
  r: f32,
}

// The 9 taps (u, v) of one vec4 channel group.
struct Taps {
  w00: vec4f,
  w01: vec4f,
  w02: vec4f,
  w10: vec4f,
  w11: vec4f,
  w12: vec4f,
  w20: vec4f,
  w21: vec4f,
  w22: vec4f,
}

// Accumulators of one block: a* is block row *; column j is pixel j, row q is channel q.
struct Acc {
  a0: mat4x4f,
  a1: mat4x4f,
  a2: mat4x4f,
  a3: mat4x4f,
}

fn outer_fma(a: mat4x4f, w: vec4f, xs: vec4f) -> mat4x4f {
  return mat4x4f(
    fma(w, vec4f(xs.x), a[0]),
    fma(w, vec4f(xs.y), a[1]),
    fma(w, vec4f(xs.z), a[2]),
    fma(w, vec4f(xs.w), a[3]),
  );
}

// The three horizontal taps w0, w1, w2 of one input row.
fn row_taps(a: mat4x4f, w0: vec4f, w1: vec4f, w2: vec4f, v: Row) -> mat4x4f {
  var r = outer_fma(a, w0, vec4f(v.l, v.m.xyz));
  r = outer_fma(r, w1, v.m);
  return outer_fma(r, w2, vec4f(v.m.yzw, v.r));
}

// All 9 taps of one block row from input rows ra, rb, rc (kernel rows 0, 1, 2).
fn block_row(a: mat4x4f, w: Taps, ra: Row, rb: Row, rc: Row) -> mat4x4f {
  var r = row_taps(a, w.w00, w.w01, w.w02, ra);
  r = row_taps(r, w.w10, w.w11, w.w12, rb);
  return row_taps(r, w.w20, w.w21, w.w22, rc);
}

// One block: input rows r0 .. r5 cover block rows 0 .. 3 with their halo.
fn block(a: Acc, w: Taps, r0: Row, r1: Row, r2: Row, r3: Row, r4: Row, r5: Row) -> Acc {
  return Acc(
    block_row(a.a0, w, r0, r1, r2),
    block_row(a.a1, w, r1, r2, r3),
    block_row(a.a2, w, r2, r3, r4),
    block_row(a.a3, w, r3, r4, r5),
  );
}

// Column block cb (0 or 1) of a wide row.
fn cols(v: Wide, cb: u32) -> Row {
  if (cb == 0u) {
    return Row(v.l, v.m0, v.m1.x);
  }
  return Row(v.m0.w, v.m1, v.r);
}

fn load_taps(k: u32) -> Taps {
  let c = p.cout4;
  return Taps(
    wt[k],
    wt[k + c],
    wt[k + 2u * c],
    wt[k + 3u * c],
    wt[k + 4u * c],
    wt[k + 5u * c],
    wt[k + 6u * c],
    wt[k + 7u * c],
    wt[k + 8u * c],
  );
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

// Epilogue of one block whose top-left input-grid position is (m0, k0).
fn store_block(a: Acc, n: u32, o0: u32, m0: u32, k0: u32) {
  store_row(a.a0, n, o0, m0, k0);
  store_row(a.a1, n, o0, m0 + 1u, k0);
  store_row(a.a2, n, o0, m0 + 2u, k0);
  store_row(a.a3, n, o0, m0 + 3u, k0);
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
  let my = i32(m0);
  let zero = Acc(mat4x4f(), mat4x4f(), mat4x4f(), mat4x4f());
  // Blocks: a{row block}{column block}{channel group}.
  var a000 = zero;
  var a001 = zero;
  var a010 = zero;
  var a011 = zero;
  var a100 = zero;
  var a101 = zero;
  var a110 = zero;
  var a111 = zero;
  for (var i = 0u; i < p.cin; i++) {
    let sv = s[n * p.cin + i];
    let b = (n * p.cin + i) * hw;
    let w0 = load_row(b, my - 1, k0, sv);
    let w1 = load_row(b, my, k0, sv);
    let w2 = load_row(b, my + 1, k0, sv);
    let w3 = load_row(b, my + 2, k0, sv);
    let w4 = load_row(b, my + 3, k0, sv);
    let w5 = load_row(b, my + 4, k0, sv);
    var w6 = w5;
    var w7 = w5;
    var w8 = w5;
    var w9 = w5;
    if (RB == 2u) {
      w6 = load_row(b, my + 5, k0, sv);
      w7 = load_row(b, my + 6, k0, sv);
      w8 = load_row(b, my + 7, k0, sv);
      w9 = load_row(b, my + 8, k0, sv);
    }
    let k = i * 9u * p.cout4 + og;
    let ta = load_taps(k);
    var tb = ta;
    if (OG == 2u) {
      tb = load_taps(k + 1u);
    }
    var r0 = cols(w0, 0u);
    var r1 = cols(w1, 0u);
    var r2 = cols(w2, 0u);
    var r3 = cols(w3, 0u);
    var r4 = cols(w4, 0u);
    var r5 = cols(w5, 0u);
    a000 = block(a000, ta, r0, r1, r2, r3, r4, r5);
    if (OG == 2u) {
      a001 = block(a001, tb, r0, r1, r2, r3, r4, r5);
    }
    if (RB == 2u) {
      let r6 = cols(w6, 0u);
      let r7 = cols(w7, 0u);
      let r8 = cols(w8, 0u);
      let r9 = cols(w9, 0u);
      a100 = block(a100, ta, r4, r5, r6, r7, r8, r9);
      if (OG == 2u) {
        a101 = block(a101, tb, r4, r5, r6, r7, r8, r9);
      }
    }
    if (CB == 2u) {
      r0 = cols(w0, 1u);
      r1 = cols(w1, 1u);
      r2 = cols(w2, 1u);
      r3 = cols(w3, 1u);
      r4 = cols(w4, 1u);
      r5 = cols(w5, 1u);
      a010 = block(a010, ta, r0, r1, r2, r3, r4, r5);
      if (OG == 2u) {
        a011 = block(a011, tb, r0, r1, r2, r3, r4, r5);
      }
      if (RB == 2u) {
        let r6 = cols(w6, 1u);
        let r7 = cols(w7, 1u);
        let r8 = cols(w8, 1u);
        let r9 = cols(w9, 1u);
        a110 = block(a110, ta, r4, r5, r6, r7, r8, r9);
        if (OG == 2u) {
          a111 = block(a111, tb, r4, r5, r6, r7, r8, r9);
        }
      }
    }
  }
  let o0 = og * 4u;
  store_block(a000, n, o0, m0, k0);
  if (OG == 2u) {
    store_block(a001, n, o0 + 4u, m0, k0);
  }
  if (CB == 2u) {
    store_block(a010, n, o0, m0, k0 + 4u);
    if (OG == 2u) {
      store_block(a011, n, o0 + 4u, m0, k0 + 4u);
    }
  }
  if (RB == 2u) {
    store_block(a100, n, o0, m0 + 4u, k0);
    if (OG == 2u) {
      store_block(a101, n, o0 + 4u, m0 + 4u, k0);
    }
    if (CB == 2u) {
      store_block(a110, n, o0, m0 + 4u, k0 + 4u);
      if (OG == 2u) {
        store_block(a111, n, o0 + 4u, m0 + 4u, k0 + 4u);
      }
    }
  }
}
