// 3x3 convolution, padding 1, stride 1, with bias (NCHW):
//   y[b, o, r, c] = bias[o] + sum_{i, ky, kx} w[o, i, ky, kx] * x[b, i, r + ky - 1, c + kx - 1]
// Weights arrive pre-packed by conv2d_pack.wgsl as wp[(i * 9 + ky * 3 + kx) * OP4 + o / 4]
// (vec4 over output channels, zero padded), so a flipped and transposed pack turns this same
// kernel into the data gradient.
// Mapping: one invocation computes a register tile of CO4 * 4 output channels x RY rows x PX
// consecutive pixels. gid.x runs over (row group, x tile), x tile fastest; workgroup_id.y is the
// channel group and workgroup_id.z the image, so weight and bias addresses are uniform across a
// workgroup. No workgroup memory: per input channel the RY + 2 input row segments (PX + 2
// values each) are loaded once into registers and each vec4 of weights is reused by RY x PX
// pixels. The tap and store loops are split into calls with constant (ky, kx) or (row, group)
// so a shader compiler unrolls each small nest and keeps the tiles in registers (a rolled loop
// over the tile would index memory, about 10x slower on llvmpipe).
// Guarded: flat index past the end, rows/columns outside the image (zero padding), rows and
// pixels past the bottom/right edge and output channels past Cout (not stored).

struct Params {
  batch: u32,
  cin: u32,
  cout: u32,
  height: u32,
  width: u32,
  tiles_x: u32,
  tiles_y: u32,
  op4: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>; // [B, Cin, H, W]
@group(0) @binding(2) var<storage, read> wp: array<vec4f>; // [Cin, 9, OP4] packed
@group(0) @binding(3) var<storage, read> bias: array<f32>; // [Cout]
@group(0) @binding(4) var<storage, read_write> y: array<f32>; // [B, Cout, H, W]

const MAX_PX = 8u;
const MAX_CO4 = 2u;
const MAX_RY = 4u;
override PX: u32 = 8u; // pixels per row per invocation, <= MAX_PX
override CO4: u32 = 2u; // vec4 output-channel groups per invocation, <= MAX_CO4
override RY: u32 = 4u; // rows per invocation, <= MAX_RY
override WG: u32 = 64u;

// Register tiles of one invocation (private so _tap can update them).
var<private> acc: array<vec4f, 64>; // [RY][CO4][PX], MAX_RY * MAX_CO4 * MAX_PX
// [RY + 2][PX + 2] input rows of one channel; (MAX_RY + 2) * (MAX_PX + 2)
var<private> xin: array<f32, 60>;

// Adds tap (ky, kx) of input channel i for every row, channel group and pixel of the tile.
// Called with constant ky, kx so its loops unroll on their own.
fn _tap(ky: u32, kx: u32, wbase: u32, og: u32) {
  for (var g = 0u; g < CO4; g++) {
    let wv = wp[wbase + (ky * 3u + kx) * p.op4 + og * CO4 + g];
    for (var ry = 0u; ry < RY; ry++) {
      for (var j = 0u; j < PX; j++) {
        let a = (ry * CO4 + g) * PX + j;
        acc[a] = fma(vec4f(xin[(ry + ky) * (PX + 2u) + j + kx]), wv, acc[a]);
      }
    }
  }
}

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(workgroup_id) wid: vec3u) {
  let t = gid.x;
  if (t >= p.tiles_x * p.tiles_y) { return; }
  let tx = t % p.tiles_x;
  let r0 = i32((t / p.tiles_x) * RY);
  let og = wid.y;
  let b = wid.z;
  let x0 = i32(tx * PX);
  let w = i32(p.width);
  let h = i32(p.height);
  let hw = p.height * p.width;

  for (var g = 0u; g < CO4; g++) {
    var bv = vec4f(0.0);
    for (var k = 0u; k < 4u; k++) {
      let o = (og * CO4 + g) * 4u + k;
      bv[k] = select(0.0, bias[min(o, p.cout - 1u)], o < p.cout);
    }
    for (var ry = 0u; ry < RY; ry++) {
      for (var j = 0u; j < PX; j++) { acc[(ry * CO4 + g) * PX + j] = bv; }
    }
  }

  for (var i = 0u; i < p.cin; i++) {
    let plane = (b * p.cin + i) * hw;
    for (var rr = 0u; rr < RY + 2u; rr++) {
      let yy = r0 + i32(rr) - 1;
      let row = plane + u32(clamp(yy, 0, h - 1)) * p.width;
      let rok = yy >= 0 && yy < h;
      for (var j = 0u; j < PX + 2u; j++) {
        let xx = x0 + i32(j) - 1;
        let ok = rok && xx >= 0 && xx < w;
        xin[rr * (PX + 2u) + j] = select(0.0, x[row + u32(clamp(xx, 0, w - 1))], ok);
      }
    }
    let wbase = i * 9u * p.op4;
    _tap(0u, 0u, wbase, og);
    _tap(0u, 1u, wbase, og);
    _tap(0u, 2u, wbase, og);
    _tap(1u, 0u, wbase, og);
    _tap(1u, 1u, wbase, og);
    _tap(1u, 2u, wbase, og);
    _tap(2u, 0u, wbase, og);
    _tap(2u, 1u, wbase, og);
    _tap(2u, 2u, wbase, og);
  }

  _store(0u, 0u, r0, x0, og, b);
  if (CO4 > 1u) { _store(0u, 1u, r0, x0, og, b); }
  if (RY > 1u) { _store(1u, 0u, r0, x0, og, b); }
  if (RY > 1u && CO4 > 1u) { _store(1u, 1u, r0, x0, og, b); }
  if (RY > 2u) { _store(2u, 0u, r0, x0, og, b); }
  if (RY > 2u && CO4 > 1u) { _store(2u, 1u, r0, x0, og, b); }
  if (RY > 3u) { _store(3u, 0u, r0, x0, og, b); }
  if (RY > 3u && CO4 > 1u) { _store(3u, 1u, r0, x0, og, b); }
}

fn _store(ry: u32, g: u32, r0: i32, x0: i32, og: u32, b: u32) {
  let r = u32(r0) + ry;
  if (r >= p.height) { return; }
  for (var k = 0u; k < 4u; k++) {
    let o = (og * CO4 + g) * 4u + k;
    if (o >= p.cout) { continue; }
    let base = ((b * p.cout + o) * p.height + r) * p.width;
    for (var j = 0u; j < PX; j++) {
      let xx = u32(x0) + j;
      if (xx < p.width) { y[base + xx] = acc[(ry * CO4 + g) * PX + j][k]; }
    }
  }
}
