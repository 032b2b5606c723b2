// Weight and bias gradients of the 3x3 conv (padding 1) as a split-K GEMM over the B*H*W pixels:
//   part[k, o, i*9 + ky*3 + kx] = sum_{(b, r) in chunk k} sum_c dy[b,o,r,c] x[b,i,r+ky-1,c+kx-1]
//   part[k, o, Cin*9]           = sum_{(b, r) in chunk k} sum_c dy[b,o,r,c]   (bias)
// conv2d_backward_weight_reduce.wgsl then sums the partials over the chunks k.
// Mapping: an invocation owns a register tile of OT output channels x IT input channels x 9
// taps (plus OT bias sums) for one chunk k of ROWS consecutive (b, r) image rows. gid.x is the
// output-channel tile, workgroup_id.y the input-channel tile and workgroup_id.z the chunk, so
// every input pixel address is uniform across a workgroup (a software rasteriser loads it once)
// and each invocation loads only its own dy channels. Each row is walked in segments of PX
// pixels: the IT x 3 input row segments (PX + 2 values each) and the OT x PX dy values are
// loaded once into registers and reused by all OT x IT x 9 x PX multiply-adds. No workgroup
// memory.
// Guarded: output channels past Cout and input channels past Cin (zero, not stored), rows past
// B*H, rows and columns outside the image (zero padding), pixels past the right edge (dy = 0).

struct Params {
  batch: u32,
  cin: u32,
  cout: u32,
  height: u32,
  width: u32,
  tiles_x: u32,
  rows_per_chunk: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>; // [B, Cin, H, W]
@group(0) @binding(2) var<storage, read> dy: array<f32>; // [B, Cout, H, W]
@group(0) @binding(3) var<storage, read_write> part: array<f32>; // [chunks, Cout, Cin * 9 + 1]

const MAX_ACC = 144u; // OT * IT * 9
const MAX_OT = 8u;
const MAX_XIN = 240u; // IT * 3 * (PX + 2)
const MAX_G = 64u; // OT * PX
const MAX_PX2 = 18u; // PX + 2
override OT: u32 = 4u; // output channels per invocation
override IT: u32 = 2u; // input channels per invocation
override PX: u32 = 8u; // pixels per row segment, <= 16
override WG: u32 = 16u;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(workgroup_id) wid: vec3u) {
  let o0 = gid.x * OT;
  let i0 = wid.y * IT;
  let k = wid.z;
  let h = p.height;
  let w = p.width;
  let hw = h * w;

  var acc: array<f32, MAX_ACC>; // [OT][IT][9]
  var bacc: array<f32, MAX_OT>; // [OT]
  var xin: array<f32, MAX_XIN>; // [IT][3][PX + 2]
  var g: array<f32, MAX_G>; // [OT][PX]
  var col: array<u32, MAX_PX2>; // clamped column of each segment value
  var cok: array<bool, MAX_PX2>; // column inside the image

  let row_end = min((k + 1u) * p.rows_per_chunk, p.batch * h);
  for (var row = k * p.rows_per_chunk; row < row_end; row++) {
    let b = row / h;
    let r = row % h;
    for (var tx = 0u; tx < p.tiles_x; tx++) {
      let c0 = i32(tx * PX);
      for (var j = 0u; j < PX + 2u; j++) {
        let xx = c0 + i32(j) - 1;
        col[j] = u32(clamp(xx, 0, i32(w) - 1));
        cok[j] = xx >= 0 && xx < i32(w);
      }
      for (var q = 0u; q < IT; q++) {
        let plane = (b * p.cin + min(i0 + q, p.cin - 1u)) * hw;
        for (var ky = 0u; ky < 3u; ky++) {
          let yy = i32(r + ky) - 1;
          let rok = i0 + q < p.cin && yy >= 0 && yy < i32(h);
          let off = plane + u32(clamp(yy, 0, i32(h) - 1)) * w;
          for (var j = 0u; j < PX + 2u; j++) {
            xin[(q * 3u + ky) * (PX + 2u) + j] = select(0.0, x[off + col[j]], rok && cok[j]);
          }
        }
      }
      for (var u = 0u; u < OT; u++) {
        let o = o0 + u;
        let base = ((b * p.cout + min(o, p.cout - 1u)) * h + r) * w;
        for (var j = 0u; j < PX; j++) {
          let ok = o < p.cout && cok[j + 1u];
          let v = select(0.0, dy[base + col[j + 1u]], ok);
          g[u * PX + j] = v;
          bacc[u] += v;
        }
      }
      for (var u = 0u; u < OT; u++) {
        for (var q = 0u; q < IT; q++) {
          for (var t = 0u; t < 9u; t++) {
            let a = (u * IT + q) * 9u + t;
            let xs = (q * 3u + t / 3u) * (PX + 2u) + t % 3u;
            var s = acc[a];
            for (var j = 0u; j < PX; j++) { s = fma(g[u * PX + j], xin[xs + j], s); }
            acc[a] = s;
          }
        }
      }
    }
  }

  let stride = p.cin * 9u + 1u;
  for (var u = 0u; u < OT; u++) {
    let o = o0 + u;
    if (o >= p.cout) { continue; }
    let base = (k * p.cout + o) * stride;
    for (var q = 0u; q < IT; q++) {
      if (i0 + q >= p.cin) { continue; }
      for (var t = 0u; t < 9u; t++) {
        part[base + (i0 + q) * 9u + t] = acc[(u * IT + q) * 9u + t];
      }
    }
    if (wid.y == 0u) { part[base + p.cin * 9u] = bacc[u]; }
  }
}
