// Packs 3x3 conv weights w[a, c, ky, kx] ([A, C, 3, 3], PyTorch layout) for conv2d.wgsl:
//   forward   (flip = 0): wp[(c * 9 + t) * OP4 * 4 + a]     = w[a, c, t]      (conv C -> A)
//   transpose (flip = 1): wp[(a * 9 + t) * OP4 * 4 + c]     = w[a, c, 8 - t]  (conv A -> C)
// with t = ky * 3 + kx and zeros in the padded output channels. The transposed, flipped pack
// makes conv2d compute the data gradient dx = conv(dy, w^T flipped).
// Mapping: one invocation per packed element; the flat index past the end is guarded.

struct Params {
  a: u32,
  c: u32,
  flip: u32,
  op4: u32,
  total: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> w: array<f32>; // [A, C, 3, 3]
@group(0) @binding(2) var<storage, read_write> wp: array<f32>; // [In, 9, OP4 * 4]

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let e = gid.x;
  if (e >= p.total) { return; }
  let width = p.op4 * 4u;
  let o = e % width;
  let t = (e / width) % 9u;
  let i = e / (width * 9u);
  var v = 0.0;
  if (p.flip == 0u) {
    if (o < p.a) { v = w[(o * p.c + i) * 9u + t]; }
  } else {
    if (o < p.c) { v = w[(i * p.c + o) * 9u + 8u - t]; }
  }
  wp[e] = v;
}
