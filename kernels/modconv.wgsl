// Modulated 3x3 convolution with the StyleGAN2 layer epilogue, same size (UP = false) or as the
// 4-phase form of the up-sampling layer (UP = true). For each phase ph = (rho, sig):
//   t[n, o, P(m), Q(k)] = d[n, o] * sum_{i, u, v} K[ph, o, i, u, v] * s[n, i]
//                                               * x[n, i, m + u - 1, k + v - 1]
//   y = clamp( g(t + strength * noise[n, P, Q] + bias[o]), -clamp, clamp ),
//   g(t) = sqrt(2) * (t >= 0 ? t : 0.2 t)
// Same size: one phase, K = W, P(m) = m, Q(k) = k. Up-sampling: K[(rho, sig), o, i, e, h] =
// ((4 f) * W)[o, i, 4 + rho - 2e, 4 + sig - 2h] (folded once at load), P(m) = 2m + rho,
// Q(k) = 2k + sig. The input is modulated by the style; d (demod.wgsl) scales the sum.
// K arrives packed as wt[((ph * I + i) * 9 + u * 3 + v) * cout4 + o / 4], a vec4 over 4 output
// channels, zero padded to cout4 * 4 channels.
// Mapping: one invocation computes OG * 4 output channels x a 4 x 4 block of input-grid
// positions of one phase. workgroup_id.y = channel tile * phases + phase (uniform weight reads);
// the flat index ((workgroup_id.z * groups_x + workgroup_id.x) * WG + local index) runs over
// (n, block row, block column). No workgroup memory: the 6 input rows of the block (one vec4
// plus two edge values each) are loaded once per input channel and reused by all taps; loads
// are the bottleneck on CPU adapters, so the tile is large.
// Guarded: flat index past B * H * W / 16; rows and columns outside the image (read as 0);
// output channels >= cout (not stored). Requires H % 4 == 0 and W % 4 == 0.

struct Params {
  batch: u32,
  cin: u32,
  cout: u32,
  height: u32,
  width: u32,
  cout4: u32,
  strength: f32,
  clamp: f32,
  groups_x: u32,
}

override WG: u32 = 64u;
override OG: u32 = 2u; // vec4 channel groups per invocation: 1 or 2
override UP: bool = false;

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>; // [B, I, H, W]
@group(0) @binding(2) var<storage, read> x4: array<vec4f>; // the same x, as vec4 of pixels
@group(0) @binding(3) var<storage, read> s: array<f32>; // [B, I] styles
@group(0) @binding(4) var<storage, read> wt: array<vec4f>; // [phases, I, 9, cout4] packed
@group(0) @binding(5) var<storage, read> d: array<f32>; // [B, O] demodulation
@group(0) @binding(6) var<storage, read> bias: array<f32>; // [O]
@group(0) @binding(7) var<storage, read> noise: array<f32>; // [B, Ho, Wo]
@group(0) @binding(8) var<storage, read_write> y: array<f32>; // [B, O, Ho, Wo]

// One input row segment: x[k - 1], x[k .. k + 3], x[k + 4].
struct Row {
  l: f32,
  m: vec4f,
  r: f32,
}

// Accumulators of the 4 block rows: column j of a* is pixel j, row q channel q of the group.
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

// The three horizontal taps (weights w0, w1, w2) of one input row for one block row.
fn row_taps(a: mat4x4f, w0: vec4f, w1: vec4f, w2: vec4f, v: Row) -> mat4x4f {
  var r = outer_fma(a, w0, vec4f(v.l, v.m.xyz));
  r = outer_fma(r, w1, v.m);
  return outer_fma(r, w2, vec4f(v.m.yzw, v.r));
}

// Kernel row u (weights from index k) applied to all four block rows; ra..rd are input rows
// u .. u + 3 of the block.
fn kernel_row(a: Acc, k: u32, ra: Row, rb: Row, rc: Row, rd: Row) -> Acc {
  let w0 = wt[k];
  let w1 = wt[k + p.cout4];
  let w2 = wt[k + 2u * p.cout4];
  return Acc(
    row_taps(a.a0, w0, w1, w2, ra),
    row_taps(a.a1, w0, w1, w2, rb),
    row_taps(a.a2, w0, w1, w2, rc),
    row_taps(a.a3, w0, w1, w2, rd),
  );
}

// Loads input row yy at columns k0 - 1 .. k0 + 4 of plane base b, scaled by sv, zero outside.
fn load_row(b: u32, yy: i32, k0: u32, sv: f32) -> Row {
  let ok = yy >= 0 && yy < i32(p.height);
  let at = b + u32(clamp(yy, 0, i32(p.height) - 1)) * p.width + k0;
  let l = select(0.0, x[max(at, 1u) - 1u], ok && k0 > 0u);
  let r = select(0.0, x[at + 4u], ok && k0 + 4u < p.width);
  return Row(l * sv, select(vec4f(0.0), x4[at / 4u], ok) * sv, r * sv);
}

fn lrelu_clamp(t: f32) -> f32 {
  let g = select(0.2 * t, t, t >= 0.0) * 1.4142135623730951;
  return clamp(g, -p.clamp, p.clamp);
}

// Epilogue of one block row: 4 channels (rows of a) x 4 pixels (columns) at input-grid
// position (m, k0); the noise of the 4 pixels is shared by the channels.
fn store_row(a: mat4x4f, n: u32, o0: u32, m: u32, k0: u32, ph: u32) {
  var ho = p.height;
  var wo = p.width;
  var oy = m;
  var ox = k0;
  var step = 1u;
  if (UP) {
    ho *= 2u;
    wo *= 2u;
    oy = 2u * m + ph / 2u;
    ox = 2u * k0 + ph % 2u;
    step = 2u;
  }
  let nz = (n * ho + oy) * wo + ox;
  let noise4 = p.strength * vec4f(
    noise[nz],
    noise[nz + step],
    noise[nz + 2u * step],
    noise[nz + 3u * step],
  );
  for (var q = 0u; q < 4u; q++) {
    let o = o0 + q;
    if (o < p.cout) {
      let v = transpose(a)[q] * d[n * p.cout + o] + noise4 + bias[o];
      let out = ((n * p.cout + o) * ho + oy) * wo + ox;
      for (var j = 0u; j < 4u; j++) {
        y[out + j * step] = lrelu_clamp(v[j]);
      }
    }
  }
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) li: u32) {
  let bw = p.width / 4u;
  let tiles = (p.height / 4u) * bw;
  let t = (wg.z * p.groups_x + wg.x) * WG + li;
  if (t >= p.batch * tiles) {
    return;
  }
  let n = t / tiles;
  let m0 = ((t % tiles) / bw) * 4u;
  let k0 = ((t % tiles) % bw) * 4u;
  let phases = select(1u, 4u, UP);
  let ph = wg.y % phases;
  let og = (wg.y / phases) * OG;
  let hw = p.height * p.width;
  let my = i32(m0);
  var a = Acc(mat4x4f(), mat4x4f(), mat4x4f(), mat4x4f());
  var c = Acc(mat4x4f(), mat4x4f(), mat4x4f(), mat4x4f());
  for (var i = 0u; i < p.cin; i++) {
    let sv = s[n * p.cin + i];
    let b = (n * p.cin + i) * hw;
    let r0 = load_row(b, my - 1, k0, sv);
    let r1 = load_row(b, my, k0, sv);
    let r2 = load_row(b, my + 1, k0, sv);
    let r3 = load_row(b, my + 2, k0, sv);
    let r4 = load_row(b, my + 3, k0, sv);
    let r5 = load_row(b, my + 4, k0, sv);
    let k = ((ph * p.cin + i) * 9u) * p.cout4 + og;
    let ku = 3u * p.cout4;
    a = kernel_row(a, k, r0, r1, r2, r3);
    a = kernel_row(a, k + ku, r1, r2, r3, r4);
    a = kernel_row(a, k + 2u * ku, r2, r3, r4, r5);
    if (OG == 2u) {
      c = kernel_row(c, k + 1u, r0, r1, r2, r3);
      c = kernel_row(c, k + 1u + ku, r1, r2, r3, r4);
      c = kernel_row(c, k + 1u + 2u * ku, r2, r3, r4, r5);
    }
  }
  for (var g = 0u; g < OG; g++) {
    var r = a;
    if (g == 1u) {
      r = c;
    }
    let o0 = (og + g) * 4u;
    store_row(r.a0, n, o0, m0, k0, ph);
    store_row(r.a1, n, o0, m0 + 1u, k0, ph);
    store_row(r.a2, n, o0, m0 + 2u, k0, ph);
    store_row(r.a3, n, o0, m0 + 3u, k0, ph);
  }
}
