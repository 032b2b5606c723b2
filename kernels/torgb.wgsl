// StyleGAN2 toRGB (modulated 1x1 convolution, no demodulation) plus the skip image:
//   out[n, c, p] = clamp( sum_i W[c, i] * s[n, i] * x[n, i, p] + bias[c], -clamp, clamp )
//   img[n, c, p] = out[n, c, p] + skip[n, c, p]
// s already includes the 1 / sqrt(I) factor. W arrives packed as wt[i], a vec4 over the
// output channels (at most 4, zero padded). p runs over the H * W pixels.
// Mapping: one invocation computes all output channels for 4 adjacent pixels (one vec4 load
// of x per input channel); the flat invocation index runs over (n, pixel group).
// No workgroup memory. Guarded: flat index past B * H * W / 4; channels >= cout (not stored).
// Requires H * W % 4 == 0.

struct Params {
  batch: u32,
  cin: u32,
  cout: u32,
  pixels: u32,
  stride_x: u32,
  clamp: f32,
}

override WG: u32 = 64u;

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<vec4f>; // [B, I, H, W] as vec4 of pixels
@group(0) @binding(2) var<storage, read> s: array<f32>; // [B, I] styles
@group(0) @binding(3) var<storage, read> wt: array<vec4f>; // [I] packed weights (4 channels)
@group(0) @binding(4) var<storage, read> bias: array<f32>; // [C]
@group(0) @binding(5) var<storage, read> skip: array<f32>; // [B, C, H, W]
@group(0) @binding(6) var<storage, read_write> out: array<f32>; // [B, C, H, W]
@group(0) @binding(7) var<storage, read_write> img: array<f32>; // [B, C, H, W]

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let groups = p.pixels / 4u;
  let t = gid.x + gid.y * p.stride_x;
  if (t >= p.batch * groups) {
    return;
  }
  let n = t / groups;
  let g = t % groups;
  var a = mat4x4f();
  for (var i = 0u; i < p.cin; i++) {
    let xv = x[(n * p.cin + i) * groups + g] * s[n * p.cin + i];
    let wv = wt[i];
    a = mat4x4f(
      fma(wv, vec4f(xv.x), a[0]),
      fma(wv, vec4f(xv.y), a[1]),
      fma(wv, vec4f(xv.z), a[2]),
      fma(wv, vec4f(xv.w), a[3]),
    );
  }
  for (var c = 0u; c < min(p.cout, 4u); c++) {
    let base = (n * p.cout + c) * p.pixels + g * 4u;
    for (var j = 0u; j < 4u; j++) {
      let v = clamp(a[j][c] + bias[c], -p.clamp, p.clamp);
      out[base + j] = v;
      img[base + j] = v + skip[base + j];
    }
  }
}
