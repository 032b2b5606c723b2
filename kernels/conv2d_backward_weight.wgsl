// Weight and bias gradients of the 3x3 conv (padding 1) as a split-K GEMM over the B*H*W pixels:
//   part[k, o, i*9 + u*3 + v] = sum_{(b, r) in chunk k} sum_c dy[b,o,r,c] x[b,i,r+u-1,c+v-1]
//   part[k, o, Cin_pad*9]     = sum_{(b, r) in chunk k} sum_c dy[b,o,r,c]   (bias)
// with Cout and Cin padded to whole tiles (Cout_pad, Cin_pad; padded entries are zero).
// conv2d_backward_weight_reduce.wgsl then sums the partials over the chunks k.
// Mapping: an invocation owns OG * 4 output channels x IT input channels x 9 taps for one chunk
// k of consecutive (b, r) image rows. gid.x is the output-channel tile, workgroup_id.y the
// input-channel tile, workgroup_id.z the chunk. Each row is walked 4 pixels at a time: one vec4
// of dy per output channel (as a 4 x 4 matrix D: column j = pixel j, row = channel) and one new
// vec4 of x per (input channel, kernel row) are loaded; the 3 horizontal taps are shifted out
// of a sliding window of the last two x loads, and each tap sum (a vec4 over 4 output
// channels) takes D times the 4 shifted pixels: 4 FMAs per tap, input channel and channel
// group, the pixel sum done in the FMA chain. All state lives in SSA structs: the previous
// form (private arrays of vec4 sums over pixel phases, 4 x 4 channels) ran 1.7x slower, and 7x
// slower at 8 output channels, where its loops stopped unrolling. No workgroup memory.
// VEC = 1 (W % 4 == 0) loads aligned vec4s; VEC = 0 builds them from masked scalar loads.
// Guarded: output channels past Cout and input channels past Cin (zero, stored into padding),
// rows past B*H, rows and columns outside the image (zero padding), pixels past the right edge
// (dy = 0).

struct Params {
  batch: u32,
  cin: u32,
  cout: u32,
  height: u32,
  width: u32,
  rows_per_chunk: u32,
  cout_pad: u32,
  cin_pad: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>; // [B, Cin, H, W]
@group(0) @binding(2) var<storage, read> dy: array<f32>; // [B, Cout, H, W]
@group(0) @binding(3) var<storage, read> x4: array<vec4f>; // x as vec4 (VEC = 1)
@group(0) @binding(4) var<storage, read> dy4: array<vec4f>; // dy as vec4 (VEC = 1)
// [chunks, Cout_pad, Cin_pad * 9 + 1]
@group(0) @binding(5) var<storage, read_write> part: array<f32>;

override OG: u32 = 2u; // vec4 output-channel groups per invocation: 1 or 2
override IT: u32 = 4u; // input channels per invocation: 1 to 4
override VEC: u32 = 1u; // 1 when W % 4 == 0: aligned vec4 loads
override WG: u32 = 16u;

// v[c .. c + 3] of the row starting at `off` (length p.width), zero outside [0, W) or when !ok.
fn load_x(off: u32, c: i32, ok: bool) -> vec4f {
  let w = i32(p.width);
  if (VEC == 1u) {
    return select(vec4f(0.0), x4[(off + u32(clamp(c, 0, w - 4))) / 4u], ok && c >= 0 && c < w);
  }
  var v: vec4f;
  for (var j = 0; j < 4; j++) {
    let cc = c + j;
    v[j] = select(0.0, x[off + u32(clamp(cc, 0, w - 1))], ok && cc >= 0 && cc < w);
  }
  return v;
}

fn load_dy(off: u32, c: i32, ok: bool) -> vec4f {
  let w = i32(p.width);
  if (VEC == 1u) {
    return select(vec4f(0.0), dy4[(off + u32(c)) / 4u], ok);
  }
  var v: vec4f;
  for (var j = 0; j < 4; j++) {
    let cc = c + j;
    v[j] = select(0.0, dy[off + u32(min(cc, w - 1))], ok && cc < w);
  }
  return v;
}

// dy of output channel o at pixels (r, c .. c + 3) of image b, zero past Cout.
fn dy_row(b: u32, o: u32, r: u32, c: i32) -> vec4f {
  let off = ((b * p.cout + min(o, p.cout - 1u)) * p.height + r) * p.width;
  return load_dy(off, c, o < p.cout);
}

// D for output channels o0 .. o0 + 3 at pixels (r, c .. c + 3) of image b: column j = pixel j.
fn load_d(b: u32, o0: u32, r: u32, c: i32) -> mat4x4f {
  return transpose(mat4x4f(dy_row(b, o0, r, c), dy_row(b, o0 + 1u, r, c),
    dy_row(b, o0 + 2u, r, c), dy_row(b, o0 + 3u, r, c)));
}

// Sliding window over one input row: x at columns c - 4 .. c - 1 and c .. c + 3.
struct Win {
  prev: vec4f,
  cur: vec4f,
}

// Everything one input channel of the tile carries along a row: its gradient sums for channel
// groups 0 and 1 (conv_block.wgsl's Taps: tap (u, v) is a vec4 over 4 output channels) and
// the windows of its input rows r - 1, r, r + 1.
struct Chan {
  s0: Taps,
  s1: Taps,
  a: Win,
  b: Win,
  c: Win,
}

// a + D * xs: the 4 pixels xs weighted by their dy columns.
fn mv(a: vec4f, d: mat4x4f, xs: vec4f) -> vec4f {
  return fma(d[3], vec4f(xs.w), fma(d[2], vec4f(xs.z), fma(d[1], vec4f(xs.y),
    fma(d[0], vec4f(xs.x), a))));
}

// x[c - 1 + j] and x[c + 1 + j] for j = 0 .. 3 from a window and the next 4 columns.
fn left(w: Win) -> vec4f {
  return vec4f(w.prev.w, w.cur.xyz);
}

fn right(w: Win, next: vec4f) -> vec4f {
  return vec4f(w.cur.yzw, next.x);
}

fn add_taps(s: Taps, d: mat4x4f, ra: Win, na: vec4f, rb: Win, nb: vec4f, rc: Win,
            nc: vec4f) -> Taps {
  return Taps(
    mv(s.w00, d, left(ra)), mv(s.w01, d, ra.cur), mv(s.w02, d, right(ra, na)),
    mv(s.w10, d, left(rb)), mv(s.w11, d, rb.cur), mv(s.w12, d, right(rb, nb)),
    mv(s.w20, d, left(rc)), mv(s.w21, d, rc.cur), mv(s.w22, d, right(rc, nc)),
  );
}

// Start of input row yy of the plane at `plane` (clamped; `ok` false reads zeros).
fn row_at(plane: u32, yy: i32) -> u32 {
  return plane + u32(clamp(yy, 0, i32(p.height) - 1)) * p.width;
}

fn row_ok(live: bool, yy: i32) -> bool {
  return live && yy >= 0 && yy < i32(p.height);
}

// Windows at the start of output row r: columns -4 .. -1 are zero padding.
fn start_row(ch: Chan, plane: u32, r: i32, live: bool) -> Chan {
  var t = ch;
  t.a = Win(vec4f(0.0), load_x(row_at(plane, r - 1), 0, row_ok(live, r - 1)));
  t.b = Win(vec4f(0.0), load_x(row_at(plane, r), 0, row_ok(live, r)));
  t.c = Win(vec4f(0.0), load_x(row_at(plane, r + 1), 0, row_ok(live, r + 1)));
  return t;
}

// Pixels c .. c + 3 of output row r for one input channel; slides its windows by 4.
fn step(ch: Chan, plane: u32, r: i32, c: i32, live: bool, d0: mat4x4f, d1: mat4x4f) -> Chan {
  let na = load_x(row_at(plane, r - 1), c + 4, row_ok(live, r - 1));
  let nb = load_x(row_at(plane, r), c + 4, row_ok(live, r));
  let nc = load_x(row_at(plane, r + 1), c + 4, row_ok(live, r + 1));
  var t = ch;
  t.s0 = add_taps(ch.s0, d0, ch.a, na, ch.b, nb, ch.c, nc);
  if (OG == 2u) {
    t.s1 = add_taps(ch.s1, d1, ch.a, na, ch.b, nb, ch.c, nc);
  }
  t.a = Win(ch.a.cur, na);
  t.b = Win(ch.b.cur, nb);
  t.c = Win(ch.c.cur, nc);
  return t;
}

// Writes lane e of the sums (output channel o0 + e) at `at`, 9 taps in a row.
fn store_lane(s: Taps, at: u32, e: u32) {
  part[at] = s.w00[e];
  part[at + 1u] = s.w01[e];
  part[at + 2u] = s.w02[e];
  part[at + 3u] = s.w10[e];
  part[at + 4u] = s.w11[e];
  part[at + 5u] = s.w12[e];
  part[at + 6u] = s.w20[e];
  part[at + 7u] = s.w21[e];
  part[at + 8u] = s.w22[e];
}

// Sums of input channel q of the tile for output rows from `row0` (padded rows, no guards:
// the reduce pass reads only o < Cout, i < Cin).
fn store_chan(ch: Chan, row0: u32, q: u32, cols: u32) {
  for (var e = 0u; e < 4u; e++) {
    store_lane(ch.s0, (row0 + e) * cols + q * 9u, e);
    if (OG == 2u) {
      store_lane(ch.s1, (row0 + 4u + e) * cols + q * 9u, e);
    }
  }
}

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(workgroup_id) wid: vec3u) {
  let o0 = gid.x * 4u * OG;
  let i0 = wid.y * IT;
  let k = wid.z;
  let h = p.height;
  let hw = h * p.width;
  let w = i32(p.width);
  let z = vec4f(0.0);
  let zs = Taps(z, z, z, z, z, z, z, z, z);
  var c0 = Chan(zs, zs, Win(z, z), Win(z, z), Win(z, z));
  var c1 = c0;
  var c2 = c0;
  var c3 = c0;
  var bias0 = z;
  var bias1 = z;

  let row_end = min((k + 1u) * p.rows_per_chunk, p.batch * h);
  for (var row = k * p.rows_per_chunk; row < row_end; row++) {
    let b = row / h;
    let r = row % h;
    let ri = i32(r);
    let base = b * p.cin;
    let p0 = (base + min(i0, p.cin - 1u)) * hw;
    let p1 = (base + min(i0 + 1u, p.cin - 1u)) * hw;
    let p2 = (base + min(i0 + 2u, p.cin - 1u)) * hw;
    let p3 = (base + min(i0 + 3u, p.cin - 1u)) * hw;
    c0 = start_row(c0, p0, ri, true);
    if (IT > 1u) {
      c1 = start_row(c1, p1, ri, i0 + 1u < p.cin);
    }
    if (IT > 2u) {
      c2 = start_row(c2, p2, ri, i0 + 2u < p.cin);
    }
    if (IT > 3u) {
      c3 = start_row(c3, p3, ri, i0 + 3u < p.cin);
    }
    for (var c = 0; c < w; c += 4) {
      let d0 = load_d(b, o0, r, c);
      var d1 = d0;
      if (OG == 2u) {
        d1 = load_d(b, o0 + 4u, r, c);
        bias1 += (d1[0] + d1[1]) + (d1[2] + d1[3]);
      }
      bias0 += (d0[0] + d0[1]) + (d0[2] + d0[3]);
      c0 = step(c0, p0, ri, c, true, d0, d1);
      if (IT > 1u) {
        c1 = step(c1, p1, ri, c, i0 + 1u < p.cin, d0, d1);
      }
      if (IT > 2u) {
        c2 = step(c2, p2, ri, c, i0 + 2u < p.cin, d0, d1);
      }
      if (IT > 3u) {
        c3 = step(c3, p3, ri, c, i0 + 3u < p.cin, d0, d1);
      }
    }
  }

  let cols = p.cin_pad * 9u + 1u;
  let row0 = k * p.cout_pad + o0;
  store_chan(c0, row0, i0, cols);
  if (IT > 1u) {
    store_chan(c1, row0, i0 + 1u, cols);
  }
  if (IT > 2u) {
    store_chan(c2, row0, i0 + 2u, cols);
  }
  if (IT > 3u) {
    store_chan(c3, row0, i0 + 3u, cols);
  }
  if (wid.y == 0u) {
    for (var e = 0u; e < 4u; e++) {
      part[(row0 + e) * cols + cols - 1u] = bias0[e];
      if (OG == 2u) {
        part[(row0 + 4u + e) * cols + cols - 1u] = bias1[e];
      }
    }
  }
}
