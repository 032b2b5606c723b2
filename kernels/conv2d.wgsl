// 3x3 convolution, padding 1, stride 1, with bias (NCHW):
//   y[b, o, r, c] = bias[o] + sum_{i, ky, kx} w[o, i, ky, kx] * x[b, i, r + ky - 1, c + kx - 1]
// Weights arrive pre-packed by conv2d_pack.wgsl as wp[(i * 9 + ky * 3 + kx) * OP4 + o / 4]
// (vec4 over output channels, zero padded), so a flipped and transposed pack turns this same
// kernel into the data gradient.
// Mapping: one invocation computes a register tile of CO4 * 4 output channels x PX consecutive
// pixels of one row. gid.x runs over (row, x tile), x tile fastest; workgroup_id.y is the
// channel group and workgroup_id.z the image, so weight and bias addresses are uniform across a
// workgroup (a software rasteriser then loads them once, not per lane). No workgroup memory:
// each input row segment (PX + 2 values) is loaded once into registers and reused by 3 taps x
// CO4 * 4 channels.
// Guarded: flat index past the end, rows/columns outside the image (zero padding), pixels past
// the right edge and output channels past Cout (not stored).

struct Params {
  batch: u32,
  cin: u32,
  cout: u32,
  height: u32,
  width: u32,
  tiles_x: u32,
  op4: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>; // [B, Cin, H, W]
@group(0) @binding(2) var<storage, read> wp: array<vec4f>; // [Cin, 9, OP4] packed
@group(0) @binding(3) var<storage, read> bias: array<f32>; // [Cout]
@group(0) @binding(4) var<storage, read_write> y: array<f32>; // [B, Cout, H, W]

const MAX_PX = 8u;
const MAX_CO4 = 2u;
override PX: u32 = 8u; // pixels per invocation, <= MAX_PX
override CO4: u32 = 2u; // vec4 output-channel groups per invocation, <= MAX_CO4
override WG: u32 = 64u;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(workgroup_id) wid: vec3u) {
  let t = gid.x;
  if (t >= p.tiles_x * p.height) { return; }
  let tx = t % p.tiles_x;
  let r = t / p.tiles_x;
  let og = wid.y;
  let b = wid.z;
  let x0 = i32(tx * PX);
  let w = i32(p.width);
  let hw = p.height * p.width;

  var acc: array<vec4f, 16>; // [MAX_CO4 * MAX_PX]
  for (var g = 0u; g < CO4; g++) {
    var bv = vec4f(0.0);
    for (var k = 0u; k < 4u; k++) {
      let o = (og * CO4 + g) * 4u + k;
      bv[k] = select(0.0, bias[min(o, p.cout - 1u)], o < p.cout);
    }
    for (var j = 0u; j < PX; j++) { acc[g * MAX_PX + j] = bv; }
  }

  var xin: array<f32, 10>; // [MAX_PX + 2]
  for (var i = 0u; i < p.cin; i++) {
    let plane = (b * p.cin + i) * hw;
    for (var ky = 0u; ky < 3u; ky++) {
      let yy = i32(r) + i32(ky) - 1;
      if (yy < 0 || yy >= i32(p.height)) { continue; }
      let row = plane + u32(yy) * p.width;
      for (var j = 0u; j < PX + 2u; j++) {
        let xx = x0 + i32(j) - 1;
        let ok = xx >= 0 && xx < w;
        xin[j] = select(0.0, x[row + u32(clamp(xx, 0, w - 1))], ok);
      }
      let wbase = (i * 9u + ky * 3u) * p.op4 + og * CO4;
      for (var kx = 0u; kx < 3u; kx++) {
        for (var g = 0u; g < CO4; g++) {
          let wv = wp[wbase + kx * p.op4 + g];
          for (var j = 0u; j < PX; j++) {
            acc[g * MAX_PX + j] = fma(vec4f(xin[j + kx]), wv, acc[g * MAX_PX + j]);
          }
        }
      }
    }
  }

  for (var g = 0u; g < CO4; g++) {
    for (var k = 0u; k < 4u; k++) {
      let o = (og * CO4 + g) * 4u + k;
      if (o >= p.cout) { continue; }
      let base = ((b * p.cout + o) * p.height + r) * p.width;
      for (var j = 0u; j < PX; j++) {
        let xx = u32(x0) + j;
        if (xx < p.width) { y[base + xx] = acc[g * MAX_PX + j][k]; }
      }
    }
  }
}
