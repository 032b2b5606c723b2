/**
 * Plain float64 TypeScript references for the ProtoNet kernels: 3x3 conv (padding 1) and its
 * gradients, training/eval batch norm with fused ReLU and its gradient, 2x2 max-pool, the
 * prototypical loss and Adam. Slow and obvious on purpose; tests compare the GPU against these.
 * Arrays are flat row-major (NCHW for images).
 */

/** Any flat numeric array. */
export type Arr = ArrayLike<number>;

/** Shape of a 4-D image batch. */
export interface Dims4 {
  b: number;
  c: number;
  h: number;
  w: number;
}

/** y[b,o,r,c] = bias[o] + sum w[o,i,ky,kx] x[b,i,r+ky-1,c+kx-1]; x [B,Ci,H,W], w [Co,Ci,3,3]. */
export function conv2dRef(x: Arr, w: Arr, bias: Arr, d: Dims4, cout: number): Float64Array {
  const { b: nb, c: ci, h, w: wd } = d;
  const y = new Float64Array(nb * cout * h * wd);
  for (let b = 0; b < nb; b++) {
    for (let o = 0; o < cout; o++) {
      for (let r = 0; r < h; r++) {
        for (let c = 0; c < wd; c++) {
          let s = bias[o];
          for (let i = 0; i < ci; i++) {
            for (let ky = 0; ky < 3; ky++) {
              const yy = r + ky - 1;
              if (yy < 0 || yy >= h) continue;
              for (let kx = 0; kx < 3; kx++) {
                const xx = c + kx - 1;
                if (xx < 0 || xx >= wd) continue;
                s += w[((o * ci + i) * 3 + ky) * 3 + kx] * x[((b * ci + i) * h + yy) * wd + xx];
              }
            }
          }
          y[((b * cout + o) * h + r) * wd + c] = s;
        }
      }
    }
  }
  return y;
}

/** Gradients of conv2dRef given dy [B,Co,H,W]: dx [B,Ci,H,W], dw [Co,Ci,3,3], db [Co]. */
export function conv2dBackwardRef(
  x: Arr,
  w: Arr,
  dy: Arr,
  d: Dims4,
  cout: number,
): { dx: Float64Array; dw: Float64Array; db: Float64Array } {
  const { b: nb, c: ci, h, w: wd } = d;
  const dx = new Float64Array(nb * ci * h * wd);
  const dw = new Float64Array(cout * ci * 9);
  const db = new Float64Array(cout);
  for (let b = 0; b < nb; b++) {
    for (let o = 0; o < cout; o++) {
      for (let r = 0; r < h; r++) {
        for (let c = 0; c < wd; c++) {
          const g = dy[((b * cout + o) * h + r) * wd + c];
          db[o] += g;
          for (let i = 0; i < ci; i++) {
            for (let ky = 0; ky < 3; ky++) {
              const yy = r + ky - 1;
              if (yy < 0 || yy >= h) continue;
              for (let kx = 0; kx < 3; kx++) {
                const xx = c + kx - 1;
                if (xx < 0 || xx >= wd) continue;
                const wi = ((o * ci + i) * 3 + ky) * 3 + kx;
                const xi = ((b * ci + i) * h + yy) * wd + xx;
                dw[wi] += g * x[xi];
                dx[xi] += g * w[wi];
              }
            }
          }
        }
      }
    }
  }
  return { dx, dw, db };
}

/** Per-channel mean and biased variance of y [B,C,H,W]. */
export function channelStatsRef(y: Arr, d: Dims4): { mean: Float64Array; variance: Float64Array } {
  const n = d.b * d.h * d.w, hw = d.h * d.w;
  const mean = new Float64Array(d.c), variance = new Float64Array(d.c);
  for (let c = 0; c < d.c; c++) {
    let s = 0;
    for (let b = 0; b < d.b; b++) for (let p = 0; p < hw; p++) s += y[(b * d.c + c) * hw + p];
    const m = s / n;
    let v = 0;
    for (let b = 0; b < d.b; b++) {
      for (let p = 0; p < hw; p++) v += (y[(b * d.c + c) * hw + p] - m) ** 2;
    }
    mean[c] = m;
    variance[c] = v / n;
  }
  return { mean, variance };
}

/** Batch norm with the given per-channel mean/variance, affine, then ReLU. */
export function batchnormReluRef(
  y: Arr,
  d: Dims4,
  mean: Arr,
  variance: Arr,
  gamma: Arr,
  beta: Arr,
  eps = 1e-5,
): Float64Array {
  const hw = d.h * d.w;
  const z = new Float64Array(y.length);
  for (let i = 0; i < y.length; i++) {
    const c = Math.floor(i / hw) % d.c;
    const v = gamma[c] * (y[i] - mean[c]) / Math.sqrt(variance[c] + eps) + beta[c];
    z[i] = Math.max(0, v);
  }
  return z;
}

/** Running statistics after one training step (momentum, unbiased variance as PyTorch). */
export function runningStatsRef(
  runMean: Arr,
  runVar: Arr,
  mean: Arr,
  variance: Arr,
  count: number,
  momentum = 0.1,
): { mean: Float64Array; variance: Float64Array } {
  const m = Float64Array.from(runMean, (r, c) => (1 - momentum) * r + momentum * mean[c]);
  const v = Float64Array.from(
    runVar,
    (r, c) => (1 - momentum) * r + momentum * variance[c] * count / (count - 1),
  );
  return { mean: m, variance: v };
}

/**
 * Gradient of z = relu(bn_train(y)) (batch statistics) given dz: dy, dgamma, dbeta.
 */
export function batchnormReluBackwardRef(
  y: Arr,
  dz: Arr,
  d: Dims4,
  gamma: Arr,
  beta: Arr,
  eps = 1e-5,
): { dy: Float64Array; dgamma: Float64Array; dbeta: Float64Array } {
  const { mean, variance } = channelStatsRef(y, d);
  const hw = d.h * d.w, n = d.b * hw;
  const dy = new Float64Array(y.length);
  const dgamma = new Float64Array(d.c), dbeta = new Float64Array(d.c);
  const xhat = new Float64Array(y.length), g = new Float64Array(y.length);
  for (let i = 0; i < y.length; i++) {
    const c = Math.floor(i / hw) % d.c;
    xhat[i] = (y[i] - mean[c]) / Math.sqrt(variance[c] + eps);
    g[i] = gamma[c] * xhat[i] + beta[c] > 0 ? dz[i] : 0;
    dgamma[c] += g[i] * xhat[i];
    dbeta[c] += g[i];
  }
  for (let i = 0; i < y.length; i++) {
    const c = Math.floor(i / hw) % d.c;
    const k = gamma[c] / Math.sqrt(variance[c] + eps) / n;
    dy[i] = k * (n * g[i] - dbeta[c] - xhat[i] * dgamma[c]);
  }
  return { dy, dgamma, dbeta };
}

/** 2x2 stride-2 max-pool (floor mode) of z [B,C,H,W] -> [B,C,H/2,W/2]. */
export function maxpoolRef(z: Arr, d: Dims4): Float64Array {
  const ph = Math.floor(d.h / 2), pw = Math.floor(d.w / 2);
  const out = new Float64Array(d.b * d.c * ph * pw);
  for (let bc = 0; bc < d.b * d.c; bc++) {
    for (let r = 0; r < ph; r++) {
      for (let c = 0; c < pw; c++) {
        let m = -Infinity;
        for (let k = 0; k < 4; k++) {
          m = Math.max(m, z[(bc * d.h + 2 * r + (k >> 1)) * d.w + 2 * c + (k & 1)]);
        }
        out[(bc * ph + r) * pw + c] = m;
      }
    }
  }
  return out;
}

/** Gradient of maxpoolRef: dp routed to the first maximum of each window. */
export function maxpoolBackwardRef(z: Arr, dp: Arr, d: Dims4): Float64Array {
  const ph = Math.floor(d.h / 2), pw = Math.floor(d.w / 2);
  const dz = new Float64Array(z.length);
  for (let bc = 0; bc < d.b * d.c; bc++) {
    for (let r = 0; r < ph; r++) {
      for (let c = 0; c < pw; c++) {
        let best = -1, m = -Infinity;
        for (let k = 0; k < 4; k++) {
          const i = (bc * d.h + 2 * r + (k >> 1)) * d.w + 2 * c + (k & 1);
          if (z[i] > m) [m, best] = [z[i], i];
        }
        dz[best] += dp[(bc * ph + r) * pw + c];
      }
    }
  }
  return dz;
}

/** Prototypical loss of embeddings e [N*K + N*Q, D] (support then query, class-major). */
export function protoLossRef(e: Arr, nWay: number, kShot: number, nQuery: number, dim: number) {
  const ns = nWay * kShot, nq = nWay * nQuery;
  const protos = new Float64Array(nWay * dim);
  for (let s = 0; s < ns; s++) {
    const c = Math.floor(s / kShot);
    for (let j = 0; j < dim; j++) protos[c * dim + j] += e[s * dim + j] / kShot;
  }
  const logits = new Float64Array(nq * nWay);
  const de = new Float64Array((ns + nq) * dim);
  let loss = 0, correct = 0;
  for (let q = 0; q < nq; q++) {
    const row = (ns + q) * dim, label = Math.floor(q / nQuery);
    for (let c = 0; c < nWay; c++) {
      let s = 0;
      for (let j = 0; j < dim; j++) s += (e[row + j] - protos[c * dim + j]) ** 2;
      logits[q * nWay + c] = -s;
    }
    const l = logits.subarray(q * nWay, (q + 1) * nWay);
    const mx = Math.max(...l);
    let argmax = 0;
    for (let c = 1; c < nWay; c++) if (l[c] > l[argmax]) argmax = c;
    if (argmax === label) correct++;
    const z = l.reduce((a, v) => a + Math.exp(v - mx), 0);
    loss += Math.log(z) + mx - l[label];
    for (let c = 0; c < nWay; c++) {
      const g = (Math.exp(l[c] - mx) / z - (c === label ? 1 : 0)) / nq;
      for (let j = 0; j < dim; j++) {
        const diff = e[row + j] - protos[c * dim + j];
        de[row + j] -= 2 * g * diff;
        for (let k = 0; k < kShot; k++) de[(c * kShot + k) * dim + j] += 2 * g * diff / kShot;
      }
    }
  }
  return { protos, logits, loss: loss / nq, acc: correct / nq, de };
}

/** Adam state for one parameter array (float64). */
export interface AdamRefState {
  m: Float64Array;
  v: Float64Array;
  step: number;
}

/** One Adam step in place (PyTorch formula, bias-corrected). */
export function adamRef(
  param: Float64Array,
  grad: Arr,
  state: AdamRefState,
  lr: number,
  beta1 = 0.9,
  beta2 = 0.999,
  eps = 1e-8,
): void {
  state.step++;
  const bc1 = 1 - beta1 ** state.step, bc2 = 1 - beta2 ** state.step;
  for (let i = 0; i < param.length; i++) {
    state.m[i] = beta1 * state.m[i] + (1 - beta1) * grad[i];
    state.v[i] = beta2 * state.v[i] + (1 - beta2) * grad[i] * grad[i];
    param[i] -= lr * (state.m[i] / bc1) / (Math.sqrt(state.v[i] / bc2) + eps);
  }
}
