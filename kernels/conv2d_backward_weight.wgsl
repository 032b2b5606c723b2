// Weight and bias gradients of the 3x3 conv (padding 1) as a split-K GEMM over the B*H*W pixels:
//   part[k, o, i*9 + ky*3 + kx] = sum_{(b, r) in chunk k} sum_c dy[b,o,r,c] x[b,i,r+ky-1,c+kx-1]
//   part[k, o, Cin_pad*9]       = sum_{(b, r) in chunk k} sum_c dy[b,o,r,c]   (bias)
// with Cout and Cin padded to whole tiles (Cout_pad, Cin_pad; padded entries are zero).
// conv2d_backward_weight_reduce.wgsl then sums the partials over the chunks k.
// Mapping: an invocation owns a register tile of OT output channels x IT input channels x 9
// taps (plus OT bias sums) for one chunk k of consecutive (b, r) image rows. gid.x is the
// output-channel tile, workgroup_id.y the input-channel tile, workgroup_id.z the chunk. Each
// row is walked 4 pixels at a time: one vec4 of dy per output channel and one new vec4 of x per
// (input channel, tap row) are loaded, the 3 horizontal taps are vec4s shifted out of the last
// two x loads (registers), and each accumulator is a vec4 over the 4 pixel phases, summed at the
// end. VEC = 1 (W % 4 == 0) loads aligned vec4s; VEC = 0 builds them from masked scalar loads.
// No workgroup memory.
// Loop nests over the register tile are kept small (one input channel per call of _channel and
// _store, called once per constant channel) because a shader compiler unrolls only small
// constant-trip loops; a loop left rolled turns the tile arrays into indexed memory (about 10x
// slower on llvmpipe).
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

const MAX_ACC = 144u; // OT * IT * 9
const MAX_OT = 4u;
const MAX_ROWS = 12u; // IT * 3
override OT: u32 = 4u; // output channels per invocation, <= 4
override IT: u32 = 4u; // input channels per invocation, <= 4
override VEC: u32 = 1u; // 1 when W % 4 == 0: aligned vec4 loads
override WG: u32 = 16u;

// v[c .. c + 3] of the row starting at `off` (length p.width), zero outside [0, W) or when !ok.
fn _load_x(off: u32, c: i32, ok: bool) -> vec4f {
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

fn _load_dy(off: u32, c: i32, ok: bool) -> vec4f {
  let w = i32(p.width);
  if (VEC == 1u) { return select(vec4f(0.0), dy4[(off + u32(c)) / 4u], ok); }
  var v: vec4f;
  for (var j = 0; j < 4; j++) {
    let cc = c + j;
    v[j] = select(0.0, dy[off + u32(min(cc, w - 1))], ok && cc < w);
  }
  return v;
}

// Register tiles of one invocation (private: the per-channel helpers below update them).
var<private> acc: array<vec4f, MAX_ACC>; // [OT][IT][9], components = pixel phase
var<private> roff: array<u32, MAX_ROWS>; // [IT][3] start of each tap row in x (clamped)
var<private> rok: array<bool, MAX_ROWS>; // [IT][3] tap row inside the image
var<private> prev: array<vec4f, MAX_ROWS>; // [IT][3] x at columns c - 4 .. c - 1
var<private> cur: array<vec4f, MAX_ROWS>; // [IT][3] x at columns c .. c + 3
var<private> d: array<vec4f, MAX_OT>; // [OT] dy at columns c .. c + 3

// Accumulates input channel q (of the tile) over pixels c .. c + 3 and slides its x window.
// Called once per q with a constant q, so each call's loops unroll on their own.
fn _channel(q: u32, c: i32) {
  for (var ky = 0u; ky < 3u; ky++) {
    let s = q * 3u + ky;
    let next = _load_x(roff[s], c + 4, rok[s]);
    let left = vec4f(prev[s].w, cur[s].xyz); // x[c - 1 + j]
    let right = vec4f(cur[s].yzw, next.x); // x[c + 1 + j]
    for (var u = 0u; u < OT; u++) {
      let a = (u * IT + q) * 9u + ky * 3u;
      acc[a] = fma(d[u], left, acc[a]);
      acc[a + 1u] = fma(d[u], cur[s], acc[a + 1u]);
      acc[a + 2u] = fma(d[u], right, acc[a + 2u]);
    }
    prev[s] = cur[s];
    cur[s] = next;
  }
}

// Writes the 9 taps of input channel q for every output channel of the tile.
fn _store(q: u32, base: u32, cols: u32) {
  for (var u = 0u; u < OT; u++) {
    for (var t = 0u; t < 9u; t++) {
      let v = acc[(u * IT + q) * 9u + t];
      part[base + u * cols + q * 9u + t] = (v.x + v.y) + (v.z + v.w);
    }
  }
}

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(workgroup_id) wid: vec3u) {
  let o0 = gid.x * OT;
  let i0 = wid.y * IT;
  let k = wid.z;
  let h = p.height;
  let w = i32(p.width);
  let hw = h * p.width;
  var bacc: array<vec4f, MAX_OT>; // [OT]

  let row_end = min((k + 1u) * p.rows_per_chunk, p.batch * h);
  for (var row = k * p.rows_per_chunk; row < row_end; row++) {
    let b = row / h;
    let r = row % h;
    for (var q = 0u; q < IT; q++) {
      let plane = (b * p.cin + min(i0 + q, p.cin - 1u)) * hw;
      for (var ky = 0u; ky < 3u; ky++) {
        let yy = i32(r + ky) - 1;
        let s = q * 3u + ky;
        roff[s] = plane + u32(clamp(yy, 0, i32(h) - 1)) * p.width;
        rok[s] = i0 + q < p.cin && yy >= 0 && yy < i32(h);
        prev[s] = vec4f(0.0);
        cur[s] = _load_x(roff[s], 0, rok[s]);
      }
    }
    for (var c = 0; c < w; c += 4) {
      for (var u = 0u; u < OT; u++) {
        let o = o0 + u;
        let off = ((b * p.cout + min(o, p.cout - 1u)) * h + r) * p.width;
        d[u] = _load_dy(off, c, o < p.cout);
        bacc[u] += d[u];
      }
      _channel(0u, c);
      if (IT > 1u) { _channel(1u, c); }
      if (IT > 2u) { _channel(2u, c); }
      if (IT > 3u) { _channel(3u, c); }
    }
  }

  // Padded partial rows (no guards here): the reduce pass reads only o < Cout, i < Cin.
  let cols = p.cin_pad * 9u + 1u;
  let base = (k * p.cout_pad + o0) * cols + i0 * 9u;
  _store(0u, base, cols);
  if (IT > 1u) { _store(1u, base, cols); }
  if (IT > 2u) { _store(2u, base, cols); }
  if (IT > 3u) { _store(3u, base, cols); }
  if (wid.y == 0u) {
    for (var u = 0u; u < OT; u++) {
      let v = bacc[u];
      part[(k * p.cout_pad + o0 + u) * cols + cols - 1u] = (v.x + v.y) + (v.z + v.w);
    }
  }
}
