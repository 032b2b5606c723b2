// Second step of the StyleGAN2 up-sampling layer (conv0): the 4x4 FIR filter (gain 4, one
// pixel of zero padding) over the transposed-convolution sums of modconv_up, then
// demodulation, noise, bias, activation and clamp:
//   y[n, o, p, q] = clamp( g(d[n, o] * sum_{a, b} G[a, b] * tp[n, o, p + a, q + b]
//                            + strength * noise[n, p, q] + bias[o]), -clamp, clamp )
//   G[a, b] = 4 f[3 - a, 3 - b],  g(t) = sqrt(2) * (t >= 0 ? t : 0.2 t)
// tp [B, O, Ho + 4, Wo + 4] holds t shifted by one pixel (tp[.., P + 1, Q + 1] = t[.., P, Q])
// with zero borders, so p + a and q + b never leave it.
// Mapping: one invocation computes 4 rows x 8 columns of one (n, o) plane; the flat index
// ((workgroup_id.z * groups_y + workgroup_id.y) * WG + local index) runs over (n, o, block
// row, block column). Each of the 7 tp rows it reads is 3 vec4 loads. No workgroup memory.
// Guarded: flat index past the block count. Requires Ho % 4 == 0 and Wo % 8 == 0.

struct Params {
  batch: u32,
  cout: u32,
  height: u32,
  width: u32,
  strength: f32,
  clamp: f32,
  groups_y: u32,
}

override WG: u32 = 64u;

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> tp: array<vec4f>; // [B, O, Ho + 4, Wo + 4]
@group(0) @binding(2) var<storage, read> g: array<vec4f>; // [4, 4] G, one vec4 per row a
@group(0) @binding(3) var<storage, read> d: array<f32>; // [B, O] demodulation
@group(0) @binding(4) var<storage, read> bias: array<f32>; // [O]
@group(0) @binding(5) var<storage, read> noise: array<vec4f>; // [B, Ho, Wo]
@group(0) @binding(6) var<storage, read_write> y: array<vec4f>; // [B, O, Ho, Wo]

// 12 consecutive values of one tp row.
struct Seg {
  v0: vec4f,
  v1: vec4f,
  v2: vec4f,
}

// Horizontal 4-tap filter with row h of G of the 4 outputs starting at column 0 of (a, b).
fn taps4(acc: vec4f, h: vec4f, a: vec4f, b: vec4f) -> vec4f {
  var r = fma(vec4f(h.x), a, acc);
  r = fma(vec4f(h.y), vec4f(a.yzw, b.x), r);
  r = fma(vec4f(h.z), vec4f(a.zw, b.xy), r);
  return fma(vec4f(h.w), vec4f(a.w, b.xyz), r);
}

// Adds filter row h applied to tp row v to the 8 outputs (lo, hi) of one output row.
fn row_add(acc: array<vec4f, 2>, h: vec4f, v: Seg) -> array<vec4f, 2> {
  return array<vec4f, 2>(taps4(acc[0], h, v.v0, v.v1), taps4(acc[1], h, v.v1, v.v2));
}

fn out_row(g0: vec4f, g1: vec4f, g2: vec4f, g3: vec4f, r0: Seg, r1: Seg, r2: Seg, r3: Seg)
  -> array<vec4f, 2> {
  var acc = row_add(array<vec4f, 2>(vec4f(), vec4f()), g0, r0);
  acc = row_add(acc, g1, r1);
  acc = row_add(acc, g2, r2);
  return row_add(acc, g3, r3);
}

fn load_seg(at: u32) -> Seg {
  return Seg(tp[at], tp[at + 1u], tp[at + 2u]);
}

// Per-plane epilogue terms: demodulation, bias, first output and noise vec4 indices, row stride.
struct Epi {
  dv: f32,
  bv: f32,
  at: u32,
  nz: u32,
  stride: u32,
}

fn lrelu_clamp(t: vec4f) -> vec4f {
  let v = select(0.2 * t, t, t >= vec4f(0.0)) * 1.4142135623730951;
  return clamp(v, vec4f(-p.clamp), vec4f(p.clamp));
}

// Output row j of the block: demodulate, add noise and bias, activate, store 8 pixels.
fn store_row(acc: array<vec4f, 2>, e: Epi, j: u32) {
  let at = e.at + j * e.stride;
  let nz = e.nz + j * e.stride;
  y[at] = lrelu_clamp(acc[0] * e.dv + p.strength * noise[nz] + e.bv);
  y[at + 1u] = lrelu_clamp(acc[1] * e.dv + p.strength * noise[nz + 1u] + e.bv);
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) li: u32) {
  let bw = p.width / 8u;
  let blocks = (p.height / 4u) * bw;
  let t = (wg.z * p.groups_y + wg.y) * WG + li;
  if (t >= p.batch * p.cout * blocks) {
    return;
  }
  let plane = t / blocks; // n * O + o
  let p0 = ((t % blocks) / bw) * 4u;
  let q4 = ((t % blocks) % bw) * 2u; // first output column / 4
  let w4 = (p.width + 4u) / 4u;
  let base = (plane * (p.height + 4u) + p0) * w4 + q4;
  let r0 = load_seg(base);
  let r1 = load_seg(base + w4);
  let r2 = load_seg(base + 2u * w4);
  let r3 = load_seg(base + 3u * w4);
  let r4 = load_seg(base + 4u * w4);
  let r5 = load_seg(base + 5u * w4);
  let r6 = load_seg(base + 6u * w4);
  let g0 = g[0];
  let g1 = g[1];
  let g2 = g[2];
  let g3 = g[3];
  let n = plane / p.cout;
  let o = plane % p.cout;
  let dv = d[plane];
  let bv = bias[o];
  let wo4 = p.width / 4u;
  let at = (plane * p.height + p0) * wo4 + q4;
  let nz = (n * p.height + p0) * wo4 + q4;
  let e = Epi(dv, bv, at, nz, wo4);
  store_row(out_row(g0, g1, g2, g3, r0, r1, r2, r3), e, 0u);
  store_row(out_row(g0, g1, g2, g3, r1, r2, r3, r4), e, 1u);
  store_row(out_row(g0, g1, g2, g3, r2, r3, r4, r5), e, 2u);
  store_row(out_row(g0, g1, g2, g3, r3, r4, r5, r6), e, 3u);
}
