// Batch-norm statistics, pass 2 of 2, and the affine coefficients (one invocation per channel).
// Training (mode 0): merges the chunk (mean, M2) pairs of batchnorm_stats.wgsl with Chan's
//   formula into the batch mean and biased variance var = M2 / n, then updates the running
//   statistics like PyTorch: rm = (1 - m) rm + m mean, rv = (1 - m) rv + m var n / (n - 1).
// Eval (mode 1): mean and var are the running statistics; nothing is updated.
// Both write stats[c] = (mean, invstd, scale, shift) with invstd = 1 / sqrt(var + eps),
//   scale = gamma invstd, shift = beta - mean scale, so bn(y) = scale y + shift.
// Guarded: channels past C.

struct Params {
  channels: u32,
  chunks: u32,
  chunk_len: u32,
  chunks_per_plane: u32,
  hw: u32,
  count: u32,
  mode: u32,
  eps: f32,
  momentum: f32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> part: array<vec2f>; // [C, chunks]
@group(0) @binding(2) var<storage, read> gamma: array<f32>; // [C]
@group(0) @binding(3) var<storage, read> beta: array<f32>; // [C]
@group(0) @binding(4) var<storage, read_write> run_mean: array<f32>; // [C]
@group(0) @binding(5) var<storage, read_write> run_var: array<f32>; // [C]
@group(0) @binding(6) var<storage, read_write> stats: array<vec4f>; // [C]

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let c = gid.x;
  if (c >= p.channels) { return; }
  var mean = run_mean[c];
  var variance = run_var[c];
  if (p.mode == 0u) {
    var n = 0.0;
    var m = 0.0;
    var m2 = 0.0;
    for (var k = 0u; k < p.chunks; k++) {
      let start = (k % p.chunks_per_plane) * p.chunk_len;
      let nb = f32(min(start + p.chunk_len, p.hw) - start);
      let q = part[c * p.chunks + k];
      let total = n + nb;
      let d = q.x - m;
      m += d * nb / total;
      m2 += q.y + d * d * n * nb / total;
      n = total;
    }
    mean = m;
    variance = m2 / n;
    let unbiased = m2 / max(n - 1.0, 1.0);
    run_mean[c] = (1.0 - p.momentum) * run_mean[c] + p.momentum * mean;
    run_var[c] = (1.0 - p.momentum) * run_var[c] + p.momentum * unbiased;
  }
  let invstd = 1.0 / sqrt(variance + p.eps);
  let scale = gamma[c] * invstd;
  stats[c] = vec4f(mean, invstd, scale, beta[c] - mean * scale);
}
