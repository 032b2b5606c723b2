// Fully connected layer with weight/bias gains and an optional leaky ReLU (StyleGAN2 mapping
// layers and style affines):
//   y[r, j] = act( sum_k x[r * x_stride + x_offset + k] * w[j, k] * w_gain + b[j] * b_gain )
//   act(t) = t (ACT = 0) or sqrt(2) * (t >= 0 ? t : 0.2 t) (ACT = 1)
// x_stride / x_offset let a style affine read one latent row ws[:, l, :] in place.
// Mapping: one invocation computes 4 consecutive outputs j of one row r; gid.x runs over output
// groups, gid.y over rows. No workgroup memory.
// Guarded: rows >= rows, outputs >= cout (not computed, not stored).

struct Params {
  rows: u32,
  cin: u32,
  cout: u32,
  x_stride: u32,
  x_offset: u32,
  w_gain: f32,
  b_gain: f32,
}

override WG: u32 = 64u;
override ACT: u32 = 0u;

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>; // [rows, x_stride] (reads cin values)
@group(0) @binding(2) var<storage, read> w: array<f32>; // [cout, cin]
@group(0) @binding(3) var<storage, read> b: array<f32>; // [cout]
@group(0) @binding(4) var<storage, read_write> y: array<f32>; // [rows, cout]

fn act(t: f32) -> f32 {
  if (ACT == 1u) {
    return select(0.2 * t, t, t >= 0.0) * 1.4142135623730951;
  }
  return t;
}

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let j0 = gid.x * 4u;
  let r = gid.y;
  if (j0 >= p.cout || r >= p.rows) {
    return;
  }
  // Clamp the weight rows read for the last partial group; their sums are never stored.
  let last = p.cout - 1u;
  let w0 = min(j0, last) * p.cin;
  let w1 = min(j0 + 1u, last) * p.cin;
  let w2 = min(j0 + 2u, last) * p.cin;
  let w3 = min(j0 + 3u, last) * p.cin;
  let xb = r * p.x_stride + p.x_offset;
  var acc = vec4f(0.0);
  for (var k = 0u; k < p.cin; k++) {
    let xv = x[xb + k];
    acc = fma(vec4f(w[w0 + k], w[w1 + k], w[w2 + k], w[w3 + k]), vec4f(xv), acc);
  }
  for (var q = 0u; q < 4u; q++) {
    let j = j0 + q;
    if (j < p.cout) {
      y[r * p.cout + j] = act(acc[q] * p.w_gain + b[j] * p.b_gain);
    }
  }
}
