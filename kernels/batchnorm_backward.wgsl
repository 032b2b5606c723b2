// Batch-norm + ReLU backward, pass 1 of 2: per-chunk sums for dgamma and dbeta.
//   g = dz * [scale y + shift > 0] (ReLU mask, recomputed exactly as the forward did),
//   xhat = (y - mean) invstd,  part[c, k] = (sum_S g, sum_S g xhat)
// over the chunk S of batchnorm_stats.wgsl (image b, pixels [pk * L, min((pk + 1) * L, HW))).
// Mapping: gid.x is the chunk, workgroup_id.y the channel; VEC = 1 (H*W and the chunk length
// multiples of 4) reads vec4s. Guarded: chunks past the end and the
// shorter last pixel range.

struct Params {
  channels: u32,
  hw: u32,
  chunk_len: u32,
  chunks_per_plane: u32,
  chunks: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> y: array<f32>; // [B, C, H, W] (conv output)
@group(0) @binding(2) var<storage, read> dz: array<f32>; // [B, C, H, W] (grad of ReLU output)
@group(0) @binding(3) var<storage, read> stats: array<vec4f>; // [C] (mean, invstd, scale, shift)
@group(0) @binding(4) var<storage, read_write> part: array<vec2f>; // [C, chunks]
@group(0) @binding(5) var<storage, read> y4: array<vec4f>; // the same y, as vec4s
@group(0) @binding(6) var<storage, read> dz4: array<vec4f>; // the same dz, as vec4s

override WG: u32 = 64u;
override VEC: u32 = 0u;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(workgroup_id) wid: vec3u) {
  let k = gid.x;
  if (k >= p.chunks) { return; }
  let c = wid.y;
  let s = stats[c];
  let b = k / p.chunks_per_plane;
  let start = (k % p.chunks_per_plane) * p.chunk_len;
  let end = min(start + p.chunk_len, p.hw);
  let base = (b * p.channels + c) * p.hw;
  var sg = 0.0;
  var sgx = 0.0;
  if (VEC == 1u) {
    var g4 = vec4f(0.0);
    var gx4 = vec4f(0.0);
    for (var q = (base + start) / 4u; q < (base + end) / 4u; q++) {
      let v = y4[q];
      let g = select(vec4f(0.0), dz4[q], fma(vec4f(s.z), v, vec4f(s.w)) > vec4f(0.0));
      g4 += g;
      gx4 = fma(g, (v - s.x) * s.y, gx4);
    }
    sg = (g4.x + g4.y) + (g4.z + g4.w);
    sgx = (gx4.x + gx4.y) + (gx4.z + gx4.w);
  } else {
    for (var i = start; i < end; i++) {
      let v = y[base + i];
      let g = select(0.0, dz[base + i], fma(s.z, v, s.w) > 0.0);
      sg += g;
      sgx = fma(g, (v - s.x) * s.y, sgx);
    }
  }
  part[c * p.chunks + k] = vec2f(sg, sgx);
}
