/**
 * Float64 reference of `kernels/matmul.ts`: the same layouts and epilogue, one output at a time,
 * so tests can check a few sampled rows of a large product.
 */

type Arr = ArrayLike<number>;

/** Layout and epilogue of `matmulRef` (the fields of `MatmulOptions`, with plain arrays). */
export interface MatmulRefOptions {
  transA?: boolean;
  transB?: boolean;
  lda?: number;
  aOffset?: number;
  alpha?: number;
  bias?: Arr;
  beta?: number;
  lrelu?: boolean;
  /** Rows of C to compute (default all): the result holds these rows in this order. */
  rows?: readonly number[];
}

/**
 * `C[m, n] = act(alpha · Σ_k A(m, k) · B(k, n) + beta · bias[n])` in float64, with A(m, k) at
 * `a[aOffset + m · lda + k]` (`transA`: `k · lda + m`) and B(k, n) at `b[k · N + n]`
 * (`transB`: `n · K + k`). Returns the requested rows of C [rows, N].
 */
export function matmulRef(
  a: Arr,
  b: Arr,
  m: number,
  k: number,
  n: number,
  opts: MatmulRefOptions = {},
): Float64Array {
  const { transA = false, transB = false, aOffset = 0, alpha = 1, beta = 1 } = opts;
  const lda = opts.lda ?? (transA ? m : k);
  const rows = opts.rows ?? Array.from({ length: m }, (_, i) => i);
  const c = new Float64Array(rows.length * n);
  rows.forEach((r, ri) => {
    for (let j = 0; j < n; j++) {
      let sum = 0;
      for (let q = 0; q < k; q++) {
        const av = a[aOffset + (transA ? q * lda + r : r * lda + q)];
        sum += av * b[transB ? j * k + q : q * n + j];
      }
      let t = alpha * sum + (opts.bias ? beta * opts.bias[j] : 0);
      if (opts.lrelu) t = Math.SQRT2 * (t >= 0 ? t : 0.2 * t);
      c[ri * n + j] = t;
    }
  });
  return c;
}
