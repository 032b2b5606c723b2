// Weight and bias gradients of the 3x3 conv (padding 1), split over the B*H reduction:
//   part[k, o, i*9 + ky*3 + kx] = sum_{(b, r) in chunk k} sum_c dy[b,o,r,c] x[b,i,r+ky-1,c+kx-1]
//   part[k, o, Cin*9]           = sum_{(b, r) in chunk k} sum_c dy[b,o,r,c]   (bias)
// conv2d_backward_weight_reduce.wgsl then sums the partials over chunks k.
// Mapping: gid.x is the output channel o, workgroup_id.y the group of CI input channels and
// workgroup_id.z the chunk k (ROWS consecutive (b, r) image rows). All invocations of a
// workgroup read the same input pixels (uniform addresses, loaded once on a software
// rasteriser) and each its own dy channel. An invocation keeps CI x 9 tap accumulators plus a
// bias accumulator in registers and slides CI 3x3 windows along each row, so every input value
// is loaded once per row. No workgroup memory.
// Guarded: o past Cout, input channels past Cin (zero, not stored), rows past B*H, rows and
// columns outside the image (zero padding).

struct Params {
  batch: u32,
  cin: u32,
  cout: u32,
  height: u32,
  width: u32,
  rows_per_chunk: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>; // [B, Cin, H, W]
@group(0) @binding(2) var<storage, read> dy: array<f32>; // [B, Cout, H, W]
@group(0) @binding(3) var<storage, read_write> part: array<f32>; // [chunks, Cout, Cin * 9 + 1]

const MAX_CI = 4u;
override CI: u32 = 4u; // input channels per invocation, <= MAX_CI
override WG: u32 = 64u;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(workgroup_id) wid: vec3u) {
  let o = gid.x;
  let i0 = wid.y * CI;
  let k = wid.z;
  let hw = p.height * p.width;
  let oc = min(o, p.cout - 1u);

  var acc: array<f32, 36>; // [MAX_CI * 9]
  var bacc = 0.0;
  var win: array<f32, 36>; // [MAX_CI][3x3] input windows, row-major

  var roff: array<u32, 12>; // [MAX_CI * 3] start of each window row in x (clamped)
  var rmask: array<f32, 12>; // [MAX_CI * 3] 1 for rows inside the image, else 0
  let row_end = min((k + 1u) * p.rows_per_chunk, p.batch * p.height);
  for (var row = k * p.rows_per_chunk; row < row_end; row++) {
    let b = row / p.height;
    let r = i32(row % p.height);
    let dy_row = ((b * p.cout + oc) * p.height + u32(r)) * p.width;
    for (var q = 0u; q < CI; q++) {
      let plane = (b * p.cin + min(i0 + q, p.cin - 1u)) * hw;
      for (var ky = 0u; ky < 3u; ky++) {
        let yy = r + i32(ky) - 1;
        let ok = i0 + q < p.cin && yy >= 0 && yy < i32(p.height);
        let j = q * 3u + ky;
        roff[j] = plane + u32(clamp(yy, 0, i32(p.height) - 1)) * p.width;
        rmask[j] = select(0.0, 1.0, ok);
        win[q * 9u + ky * 3u] = 0.0;
        win[q * 9u + ky * 3u + 1u] = 0.0;
        win[q * 9u + ky * 3u + 2u] = x[roff[j]] * rmask[j];
      }
    }
    for (var c = 0u; c < p.width; c++) {
      let g = dy[dy_row + c];
      bacc += g;
      let col = min(c + 1u, p.width - 1u);
      let cmask = select(0.0, 1.0, c + 1u < p.width);
      for (var q = 0u; q < CI; q++) {
        for (var ky = 0u; ky < 3u; ky++) {
          let s = q * 9u + ky * 3u;
          let j = q * 3u + ky;
          win[s] = win[s + 1u];
          win[s + 1u] = win[s + 2u];
          win[s + 2u] = x[roff[j] + col] * (rmask[j] * cmask);
        }
        for (var t = 0u; t < 9u; t++) {
          acc[q * 9u + t] = fma(win[q * 9u + t], g, acc[q * 9u + t]);
        }
      }
    }
  }

  if (o >= p.cout) { return; }
  let stride = p.cin * 9u + 1u;
  let base = (k * p.cout + o) * stride;
  for (var q = 0u; q < CI; q++) {
    if (i0 + q >= p.cin) { continue; }
    for (var t = 0u; t < 9u; t++) { part[base + (i0 + q) * 9u + t] = acc[q * 9u + t]; }
  }
  if (wid.y == 0u) { part[base + p.cin * 9u] = bacc; }
}
