// Register-tiled matrix product with an optional bias and activation:
//   C[m, n] = act( alpha * sum_k A(m, k) * B(k, n) + beta * bias[n] )      (bias if HAS_BIAS = 1)
//   A(m, k) = a[a_offset + m * lda + k] (TRANS_A = 0) or a[a_offset + k * lda + m] (TRANS_A = 1)
//   B(k, n) = b[k * ldb + n]            (TRANS_B = 0) or b[n * ldb + k]            (TRANS_B = 1)
//   act(t) = t (ACT = 0) or sqrt(2) * (t >= 0 ? t : 0.2 t) (ACT = 1); C is [M, N] row-major.
// Mapping: one invocation computes a TM x TN tile of C (rows m0 = gid.y * TM, columns
// n0 = gid.x * TN), so neighbouring invocations take neighbouring column blocks. The K loop steps
// by 4: each step loads 4 k values of the tile's TM rows of A and TN columns of B into registers
// (vec4 loads from a4 / b4 when VEC_A / VEC_B = 1, i.e. the stride and offset are multiples of 4
// and, across a row, the tile start is too) and does TM * TN * 4 FMAs. No workgroup memory.
// Guarded: rows m >= M and columns n >= N read clamped or neighbouring data and are not stored;
// k >= K values (the last step when K % 4 != 0) are zeroed before use.
// a / a4 (and b / b4) are the same buffer bound twice: scalar and vec4 views.

struct Params {
  m: u32,
  n: u32,
  k: u32,
  lda: u32,
  ldb: u32,
  a_offset: u32,
  alpha: f32,
  beta: f32,
}

// Tile rows / columns per invocation: multiples of 4, at most MAX_T.
override TM: u32 = 8u;
override TN: u32 = 8u;
override TRANS_A: u32 = 0u;
override TRANS_B: u32 = 0u;
override VEC_A: u32 = 0u;
override VEC_B: u32 = 0u;
override HAS_BIAS: u32 = 0u;
override ACT: u32 = 0u;
override WG: u32 = 64u;

const MAX_T = 32u;
const MAX_Q = 8u; // MAX_T / 4

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> a: array<f32>; // see A(m, k) above
@group(0) @binding(2) var<storage, read> a4: array<vec4f>; // same buffer as a
@group(0) @binding(3) var<storage, read> b: array<f32>; // [K, N] or [N, K]
@group(0) @binding(4) var<storage, read> b4: array<vec4f>; // same buffer as b
@group(0) @binding(5) var<storage, read> bias: array<f32>; // [N] (unread when HAS_BIAS = 0)
@group(0) @binding(6) var<storage, read_write> c: array<f32>; // [M, N]

// Per invocation: af[i] = A(m0 + i, k0 .. k0 + 3), bf[j] = B(k0 .. k0 + 3, n0 + j),
// acc[i][q] = C columns n0 + 4q .. n0 + 4q + 3 of row m0 + i.
var<private> af: array<vec4f, MAX_T>;
var<private> bf: array<vec4f, MAX_T>;
var<private> acc: array<array<vec4f, MAX_Q>, MAX_T>;

fn a_vec(e: u32) -> vec4f {
  if (VEC_A == 1u) {
    return a4[e >> 2u];
  }
  return vec4f(a[e], a[e + 1u], a[e + 2u], a[e + 3u]);
}

fn b_vec(e: u32) -> vec4f {
  if (VEC_B == 1u) {
    return b4[e >> 2u];
  }
  return vec4f(b[e], b[e + 1u], b[e + 2u], b[e + 3u]);
}

// A rows along k (TRANS_A = 0): one vec4 per tile row.
fn load_a_rows(m0: u32, k0: u32, live: vec4<bool>) {
  for (var i = 0u; i < MAX_T; i++) {
    if (i < TM) {
      let m = min(m0 + i, p.m - 1u);
      af[i] = select(vec4f(0.0), a_vec(p.a_offset + m * p.lda + k0), live);
    }
  }
}

// A stored k-major (TRANS_A = 1): TM / 4 vec4s across m for each of the 4 k values.
fn load_a_cols(m0: u32, k0: u32, live: vec4<bool>) {
  for (var kk = 0u; kk < 4u; kk++) {
    let base = p.a_offset + min(k0 + kk, p.k - 1u) * p.lda + m0;
    for (var q = 0u; q < MAX_Q; q++) {
      if (q * 4u < TM) {
        let v = select(vec4f(0.0), a_vec(base + q * 4u), vec4<bool>(live[kk]));
        af[q * 4u][kk] = v.x;
        af[q * 4u + 1u][kk] = v.y;
        af[q * 4u + 2u][kk] = v.z;
        af[q * 4u + 3u][kk] = v.w;
      }
    }
  }
}

// B stored n-major (TRANS_B = 1): one vec4 along k per tile column.
fn load_b_rows(n0: u32, k0: u32, live: vec4<bool>) {
  for (var j = 0u; j < MAX_T; j++) {
    if (j < TN) {
      let n = min(n0 + j, p.n - 1u);
      bf[j] = select(vec4f(0.0), b_vec(n * p.ldb + k0), live);
    }
  }
}

// B stored k-major (TRANS_B = 0): TN / 4 vec4s across n for each of the 4 k values.
fn load_b_cols(n0: u32, k0: u32, live: vec4<bool>) {
  for (var kk = 0u; kk < 4u; kk++) {
    let base = min(k0 + kk, p.k - 1u) * p.ldb + n0;
    for (var q = 0u; q < MAX_Q; q++) {
      if (q * 4u < TN) {
        let v = select(vec4f(0.0), b_vec(base + q * 4u), vec4<bool>(live[kk]));
        bf[q * 4u][kk] = v.x;
        bf[q * 4u + 1u][kk] = v.y;
        bf[q * 4u + 2u][kk] = v.z;
        bf[q * 4u + 3u][kk] = v.w;
      }
    }
  }
}

// acc[i][q] += sum_kk A(m0 + i, k0 + kk) * B(k0 + kk, n0 + 4q .. n0 + 4q + 3): the 4 FMAs of one
// accumulator run back to back, so a spilled accumulator is loaded and stored once per step.
fn fma_cell(i: u32, q: u32) {
  let x = af[i];
  let j = q * 4u;
  var s = acc[i][q];
  s = fma(vec4f(x.x), vec4f(bf[j].x, bf[j + 1u].x, bf[j + 2u].x, bf[j + 3u].x), s);
  s = fma(vec4f(x.y), vec4f(bf[j].y, bf[j + 1u].y, bf[j + 2u].y, bf[j + 3u].y), s);
  s = fma(vec4f(x.z), vec4f(bf[j].z, bf[j + 1u].z, bf[j + 2u].z, bf[j + 3u].z), s);
  s = fma(vec4f(x.w), vec4f(bf[j].w, bf[j + 1u].w, bf[j + 2u].w, bf[j + 3u].w), s);
  acc[i][q] = s;
}

fn fma_row(i: u32) {
  for (var q = 0u; q < MAX_Q; q++) {
    if (q * 4u < TN) {
      fma_cell(i, q);
    }
  }
}

fn step(m0: u32, n0: u32, k0: u32) {
  let live = vec4<bool>(k0 < p.k, k0 + 1u < p.k, k0 + 2u < p.k, k0 + 3u < p.k);
  if (TRANS_A == 0u) {
    load_a_rows(m0, k0, live);
  } else {
    load_a_cols(m0, k0, live);
  }
  if (TRANS_B == 1u) {
    load_b_rows(n0, k0, live);
  } else {
    load_b_cols(n0, k0, live);
  }
  for (var i = 0u; i < MAX_T; i++) {
    if (i < TM) {
      fma_row(i);
    }
  }
}

fn act(t: f32) -> f32 {
  if (ACT == 1u) {
    return select(0.2 * t, t, t >= 0.0) * 1.4142135623730951;
  }
  return t;
}

fn store_row(m: u32, n0: u32, i: u32) {
  for (var j = 0u; j < MAX_T; j++) {
    let n = n0 + j;
    if (j < TN && n < p.n) {
      var t = acc[i][j / 4u][j % 4u] * p.alpha;
      if (HAS_BIAS == 1u) {
        t += bias[n] * p.beta;
      }
      c[m * p.n + n] = act(t);
    }
  }
}

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let n0 = gid.x * TN;
  let m0 = gid.y * TM;
  if (n0 >= p.n || m0 >= p.m) {
    return;
  }
  for (var k0 = 0u; k0 < p.k; k0 += 4u) {
    step(m0, n0, k0);
  }
  for (var i = 0u; i < MAX_T; i++) {
    if (i < TM && m0 + i < p.m) {
      store_row(m0 + i, n0, i);
    }
  }
}
