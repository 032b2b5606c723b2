// Batch-norm statistics, pass 1 of 2: per-chunk mean and centred sum of squares.
//   For chunk k = (b, pk) of channel c, with S = the pixels p in [pk * L, min((pk + 1) * L, HW)):
//     part[c, k] = (mean_S y[b, c, p], sum_S (y[b, c, p] - mean_S)^2)
// Centring inside each chunk (two sweeps of contiguous, cache-resident data) and merging chunks
// with Chan's formula in batchnorm_finalize.wgsl avoids the cancellation of E[y^2] - E[y]^2.
// Mapping: gid.x is the chunk k in [0, B * ceil(HW / L)), workgroup_id.y the channel c.
// VEC = 1 (H*W and the chunk length multiples of 4) reads vec4s: a CPU adapter pays per load,
// not per float. Guarded: chunks past the end and the last, shorter pixel range of each plane.

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
@group(0) @binding(3) var<storage, read> y4: array<vec4f>; // the same y, as vec4s

override WG: u32 = 64u;
override VEC: u32 = 0u;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(workgroup_id) wid: vec3u) {
  let k = gid.x;
  if (k >= p.chunks) { return; }
  let c = wid.y;
  let b = k / p.chunks_per_plane;
  let start = (k % p.chunks_per_plane) * p.chunk_len;
  let end = min(start + p.chunk_len, p.hw);
  let base = (b * p.channels + c) * p.hw;
  let n = f32(end - start);
  var mean: f32;
  var m2 = 0.0;
  if (VEC == 1u) {
    let q0 = (base + start) / 4u;
    let q1 = (base + end) / 4u;
    var s4 = vec4f(0.0);
    for (var q = q0; q < q1; q++) { s4 += y4[q]; }
    mean = ((s4.x + s4.y) + (s4.z + s4.w)) / n;
    var m4 = vec4f(0.0);
    for (var q = q0; q < q1; q++) {
      let d = y4[q] - mean;
      m4 = fma(d, d, m4);
    }
    m2 = (m4.x + m4.y) + (m4.z + m4.w);
  } else {
    var s = 0.0;
    for (var i = start; i < end; i++) { s += y[base + i]; }
    mean = s / n;
    for (var i = start; i < end; i++) {
      let d = y[base + i] - mean;
      m2 = fma(d, d, m2);
    }
  }
  part[c * p.chunks + k] = vec2f(mean, m2);
}
