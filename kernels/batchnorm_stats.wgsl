// Batch-norm statistics, pass 1 of 2: per-chunk mean and centred sum of squares.
//   For chunk k = (b, pk) of channel c, with S = the pixels p in [pk * L, min((pk + 1) * L, HW)):
//     part[c, k] = (mean_S y[b, c, p], sum_S (y[b, c, p] - mean_S)^2)
// Centring inside each chunk (two sweeps of contiguous, cache-resident data) and merging chunks
// with Chan's formula in batchnorm_finalize.wgsl avoids the cancellation of E[y^2] - E[y]^2.
// Mapping: gid.x is the chunk k in [0, B * ceil(HW / L)), workgroup_id.y the channel c.
// Guarded: chunks past the end and the last, shorter pixel range of each plane.

struct Params {
  channels: u32,
  hw: u32,
  chunk_len: u32,
  chunks_per_plane: u32,
  chunks: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> y: array<f32>; // [B, C, H, W]
@group(0) @binding(2) var<storage, read_write> part: array<vec2f>; // [C, chunks]

override WG: u32 = 64u;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(workgroup_id) wid: vec3u) {
  let k = gid.x;
  if (k >= p.chunks) { return; }
  let c = wid.y;
  let b = k / p.chunks_per_plane;
  let start = (k % p.chunks_per_plane) * p.chunk_len;
  let end = min(start + p.chunk_len, p.hw);
  let base = (b * p.channels + c) * p.hw;
  var s = 0.0;
  for (var i = start; i < end; i++) { s += y[base + i]; }
  let mean = s / f32(end - start);
  var m2 = 0.0;
  for (var i = start; i < end; i++) {
    let d = y[base + i] - mean;
    m2 = fma(d, d, m2);
  }
  part[c * p.chunks + k] = vec2f(mean, m2);
}
