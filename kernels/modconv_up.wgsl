// Modulated transposed 3x3 convolution, stride 2, no padding: the first step of the StyleGAN2
// up-sampling layer (conv0), raw sums before the FIR filter and demodulation (up_epilogue):
//   t[n, o, P, Q] = sum_{i, m, k, u, v : 2m + u = P, 2k + v = Q}
//                     W[o, i, u, v] * s[n, i] * x[n, i, m, k]
// for P, Q in 0 .. 2H, 0 .. 2W. Per input-grid position (m, k) the four parities are
//   t[2m, 2k]     = W00 x[m, k] + W02 x[m, k-1] + W20 x[m-1, k] + W22 x[m-1, k-1]
//   t[2m, 2k+1]   = W01 x[m, k] + W21 x[m-1, k]
//   t[2m+1, 2k]   = W10 x[m, k] + W12 x[m, k-1]
//   t[2m+1, 2k+1] = W11 x[m, k]
// (x outside the image is 0), i.e. 9 taps per input pixel instead of the 36 of the folded form.
// The result goes to tp [B, O, 2H + 4, 2W + 4] with tp[.., P + 1, Q + 1] = t[.., P, Q]; the
// border rows and columns are never written and stay 0 (padding for the filter).
// W arrives packed as wt[(i * 9 + u * 3 + v) * cout4 + o / 4], a vec4 over 4 output channels.
// Mapping: one invocation computes a 4 x 4 block of positions (m, k) with all four parities
// for OG * 4 output channels; workgroup_id.x is the channel tile (uniform weight reads); the
// flat index ((workgroup_id.z * groups_y + workgroup_id.y) * WG + local index) runs over
// (n, block row, block column). The blocks at the last row (column) also produce t row 2H
// (column 2W), which only x row H - 1 (column W - 1) reaches. No workgroup memory.
// Guarded: flat index past B * H * W / 16; rows and columns outside the image (read as 0);
// output channels >= cout (not stored). Requires H % 4 == 0 and W % 4 == 0.

struct Params {
  batch: u32,
  cin: u32,
  cout: u32,
  height: u32,
  width: u32,
  cout4: u32,
  groups_y: u32,
}

override WG: u32 = 64u;
override OG: u32 = 2u; // vec4 channel groups per invocation: 1 or 2

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>; // [B, I, H, W]
@group(0) @binding(2) var<storage, read> x4: array<vec4f>; // the same x, as vec4 of pixels
@group(0) @binding(3) var<storage, read> s: array<f32>; // [B, I] styles
@group(0) @binding(4) var<storage, read> wt: array<vec4f>; // [I, 9, cout4] packed
@group(0) @binding(5) var<storage, read_write> tp: array<f32>; // [B, O, 2H + 4, 2W + 4]

// Taps and outer_fma come from conv_block.wgsl (prepended by modconv_up.ts).

// Input row segment x[k0 - 1], x[k0 .. k0 + 3].
struct Row {
  l: f32,
  m: vec4f,
}

// The four parities of one block row (ee = t[2m, 2k], eo = t[2m, 2k+1], ...): column j of
// each is position k0 + j, row q channel q.
struct Quad {
  ee: mat4x4f,
  eo: mat4x4f,
  oe: mat4x4f,
  oo: mat4x4f,
}

// Edge sums: er* = t row 2H (e: even column 2k, o: odd column 2k + 1, column j = k0 + j);
// ec* = t column 2W (e: even row 2m, o: odd row 2m + 1, column j = block row j); corner.
struct Edge {
  ere: mat4x4f,
  ero: mat4x4f,
  ece: mat4x4f,
  eco: mat4x4f,
  corner: vec4f,
}

// One input channel's share of one block row at input row m: cur = x[m], prev = x[m - 1].
struct Chan {
  w: Taps,
  cur: Row,
  prev: Row,
}

fn shifted(r: Row) -> vec4f {
  return vec4f(r.l, r.m.xyz);
}

fn ee_taps(a: mat4x4f, c: Chan) -> mat4x4f {
  var r = outer_fma(a, c.w.w00, c.cur.m);
  r = outer_fma(r, c.w.w02, shifted(c.cur));
  r = outer_fma(r, c.w.w20, c.prev.m);
  return outer_fma(r, c.w.w22, shifted(c.prev));
}

fn eo_taps(a: mat4x4f, c: Chan) -> mat4x4f {
  return outer_fma(outer_fma(a, c.w.w01, c.cur.m), c.w.w21, c.prev.m);
}

fn oe_taps(a: mat4x4f, c: Chan) -> mat4x4f {
  return outer_fma(outer_fma(a, c.w.w10, c.cur.m), c.w.w12, shifted(c.cur));
}

fn oo_taps(a: mat4x4f, c: Chan) -> mat4x4f {
  return outer_fma(a, c.w.w11, c.cur.m);
}

// One block row, one input channel.
fn quad(a: Quad, c: Chan) -> Quad {
  return Quad(ee_taps(a.ee, c), eo_taps(a.eo, c), oe_taps(a.oe, c), oo_taps(a.oo, c));
}

// Rows x[m0 - 1 .. m0 + 3] and taps of one input channel.
struct Slice {
  w: Taps,
  r0: Row,
  r1: Row,
  r2: Row,
  r3: Row,
  r4: Row,
}

// Edge sums of one input channel: row m = H sees x[H - 1] (r4) as prev; column k = W sees
// x[m, W - 1] as its left neighbour.
fn edge(e: Edge, c: Slice) -> Edge {
  let w = c.w;
  let cur = vec4f(c.r1.m.w, c.r2.m.w, c.r3.m.w, c.r4.m.w);
  let prev = vec4f(c.r0.m.w, c.r1.m.w, c.r2.m.w, c.r3.m.w);
  return Edge(
    outer_fma(outer_fma(e.ere, w.w20, c.r4.m), w.w22, shifted(c.r4)),
    outer_fma(e.ero, w.w21, c.r4.m),
    outer_fma(outer_fma(e.ece, w.w02, cur), w.w22, prev),
    outer_fma(e.eco, w.w12, cur),
    fma(w.w22, vec4f(c.r4.m.w), e.corner),
  );
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

// Loads input row yy at columns k0 - 1 .. k0 + 3 of plane base b, scaled by sv, zero outside.
fn load_row(b: u32, yy: i32, k0: u32, sv: f32) -> Row {
  let ok = yy >= 0 && yy < i32(p.height);
  let at = b + u32(clamp(yy, 0, i32(p.height) - 1)) * p.width + k0;
  let l = select(0.0, x[max(at, 1u) - 1u], ok && k0 > 0u);
  return Row(l * sv, select(vec4f(0.0), x4[at / 4u], ok) * sv);
}

// Rows and taps of input channel i for the block at (m0, k0), channel group og.
fn load_slice(n: u32, i: u32, m0: u32, k0: u32, og: u32) -> Slice {
  let sv = s[n * p.cin + i];
  let b = (n * p.cin + i) * p.height * p.width;
  let my = i32(m0);
  return Slice(
    load_taps(i * 9u * p.cout4 + og),
    load_row(b, my - 1, k0, sv),
    load_row(b, my, k0, sv),
    load_row(b, my + 1, k0, sv),
    load_row(b, my + 2, k0, sv),
    load_row(b, my + 3, k0, sv),
  );
}

// Stores t[P, Q .. Q + 2 (3 - 1)] (every other column) for the 4 channels of a.
fn store4(a: mat4x4f, n: u32, o0: u32, row: u32, col: u32, step: u32) {
  let ht = 2u * p.height + 4u;
  let wt4 = 2u * p.width + 4u;
  for (var q = 0u; q < 4u; q++) {
    let o = o0 + q;
    if (o < p.cout) {
      let v = transpose(a)[q];
      let at = ((n * p.cout + o) * ht + row + 1u) * wt4 + col + 1u;
      tp[at] = v.x;
      tp[at + step] = v.y;
      tp[at + 2u * step] = v.z;
      tp[at + 3u * step] = v.w;
    }
  }
}

fn store_quad(a: Quad, n: u32, o0: u32, m: u32, k0: u32) {
  store4(a.ee, n, o0, 2u * m, 2u * k0, 2u);
  store4(a.eo, n, o0, 2u * m, 2u * k0 + 1u, 2u);
  store4(a.oe, n, o0, 2u * m + 1u, 2u * k0, 2u);
  store4(a.oo, n, o0, 2u * m + 1u, 2u * k0 + 1u, 2u);
}

// Stores one channel group's block (o0 .. o0 + 3) and, at the last block row / column, its
// edge sums.
fn store_group(a0: Quad, a1: Quad, a2: Quad, a3: Quad, e: Edge, n: u32, o0: u32, m0: u32,
  k0: u32) {
  store_quad(a0, n, o0, m0, k0);
  store_quad(a1, n, o0, m0 + 1u, k0);
  store_quad(a2, n, o0, m0 + 2u, k0);
  store_quad(a3, n, o0, m0 + 3u, k0);
  let last_row = m0 + 4u == p.height;
  let last_col = k0 + 4u == p.width;
  if (last_row) {
    store4(e.ere, n, o0, 2u * p.height, 2u * k0, 2u);
    store4(e.ero, n, o0, 2u * p.height, 2u * k0 + 1u, 2u);
  }
  if (last_col) {
    store4(e.ece, n, o0, 2u * m0, 2u * p.width, 2u * (2u * p.width + 4u));
    store4(e.eco, n, o0, 2u * m0 + 1u, 2u * p.width, 2u * (2u * p.width + 4u));
  }
  if (last_row && last_col) {
    let ht = 2u * p.height + 4u;
    let wt4 = 2u * p.width + 4u;
    for (var q = 0u; q < 4u; q++) {
      let o = o0 + q;
      if (o < p.cout) {
        tp[((n * p.cout + o) * ht + 2u * p.height + 1u) * wt4 + 2u * p.width + 1u] = e.corner[q];
      }
    }
  }
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) li: u32) {
  let bw = p.width / 4u;
  let blocks = (p.height / 4u) * bw;
  let t = (wg.z * p.groups_y + wg.y) * WG + li;
  if (t >= p.batch * blocks) {
    return;
  }
  let n = t / blocks;
  let m0 = ((t % blocks) / bw) * 4u;
  let k0 = ((t % blocks) % bw) * 4u;
  let og = wg.x * OG;
  let z = Quad(mat4x4f(), mat4x4f(), mat4x4f(), mat4x4f());
  let ze = Edge(mat4x4f(), mat4x4f(), mat4x4f(), mat4x4f(), vec4f());
  // a*, e: channel group og; b*, f: og + 1 (OG = 2).
  var a0 = z;
  var a1 = z;
  var a2 = z;
  var a3 = z;
  var e = ze;
  var b0 = z;
  var b1 = z;
  var b2 = z;
  var b3 = z;
  var f = ze;
  for (var i = 0u; i < p.cin; i++) {
    let c = load_slice(n, i, m0, k0, og);
    a0 = quad(a0, Chan(c.w, c.r1, c.r0));
    a1 = quad(a1, Chan(c.w, c.r2, c.r1));
    a2 = quad(a2, Chan(c.w, c.r3, c.r2));
    a3 = quad(a3, Chan(c.w, c.r4, c.r3));
    e = edge(e, c);
    if (OG == 2u) {
      let d = Slice(load_taps(i * 9u * p.cout4 + og + 1u), c.r0, c.r1, c.r2, c.r3, c.r4);
      b0 = quad(b0, Chan(d.w, d.r1, d.r0));
      b1 = quad(b1, Chan(d.w, d.r2, d.r1));
      b2 = quad(b2, Chan(d.w, d.r3, d.r2));
      b3 = quad(b3, Chan(d.w, d.r4, d.r3));
      f = edge(f, d);
    }
  }
  store_group(a0, a1, a2, a3, e, n, og * 4u, m0, k0);
  if (OG == 2u) {
    store_group(b0, b1, b2, b3, f, n, og * 4u + 4u, m0, k0);
  }
}
