// Sums the per-chunk partials of conv2d_backward_weight.wgsl (rows padded to whole tiles):
//   dw[o, j] = sum_k part[k, o, j]            for j < Cin * 9   ([Cout, Cin, 3, 3] row-major)
//   db[o]    = sum_k part[k, o, Cin_pad * 9]
// Mapping: one invocation per (o, j) with j in [0, Cin * 9]; the flat index past the end is
// guarded. Adjacent invocations read adjacent partials.

struct Params {
  cout: u32,
  cols: u32,
  chunks: u32,
  cout_pad: u32,
  cols_pad: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> part: array<f32>; // [chunks, Cout_pad, cols_pad]
@group(0) @binding(2) var<storage, read_write> dw: array<f32>; // [Cout, cols - 1]
@group(0) @binding(3) var<storage, read_write> db: array<f32>; // [Cout]

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let e = gid.x;
  if (e >= p.cout * p.cols) { return; }
  let o = e / p.cols;
  let j = e % p.cols;
  let bias = j + 1u == p.cols;
  let src = o * p.cols_pad + select(j, p.cols_pad - 1u, bias);
  var s = 0.0;
  for (var k = 0u; k < p.chunks; k++) { s += part[k * p.cout_pad * p.cols_pad + src]; }
  if (bias) { db[o] = s; } else { dw[o * (p.cols - 1u) + j] = s; }
}
