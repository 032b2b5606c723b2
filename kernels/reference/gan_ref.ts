/**
 * Plain TypeScript (float64) references for the generator kernels, written straight from
 * `shared/spec/stylegan2-weights.md` (modulating and demodulating the weights, the two-step
 * up-sampling conv), so they share no shortcuts with the GPU kernels. Arrays are row-major.
 */

type Arr = ArrayLike<number>;

/** `sqrt(2) · lrelu(t, 0.2)`, the StyleGAN2 activation with gain. */
export function lreluGain(t: number): number {
  return (t >= 0 ? t : 0.2 * t) * Math.SQRT2;
}

/**
 * `y[r, j] = act(Σ_k x[r, k] w[j, k] wGain + b[j] bGain)`.
 * @param x [R, I]
 * @param w [O, I]
 * @param b [O]
 * @returns [R, O]
 */
export function linearRef(
  x: Arr,
  w: Arr,
  b: Arr,
  rows: number,
  wGain: number,
  bGain: number,
  lrelu: boolean,
): Float64Array {
  const cout = b.length, cin = w.length / cout;
  const y = new Float64Array(rows * cout);
  for (let r = 0; r < rows; r++) {
    for (let j = 0; j < cout; j++) {
      let sum = 0;
      for (let k = 0; k < cin; k++) sum += x[r * cin + k] * w[j * cin + k];
      const t = sum * wGain + b[j] * bGain;
      y[r * cout + j] = lrelu ? lreluGain(t) : t;
    }
  }
  return y;
}

/** `x / sqrt(mean(x²) + 1e-8)` per row of x [R, D]. */
export function pixelNormRef(x: Arr, rows: number): Float64Array {
  const dim = x.length / rows;
  const y = new Float64Array(x.length);
  for (let r = 0; r < rows; r++) {
    let sum = 0;
    for (let k = 0; k < dim; k++) sum += x[r * dim + k] ** 2;
    const scale = 1 / Math.sqrt(sum / dim + 1e-8);
    for (let k = 0; k < dim; k++) y[r * dim + k] = x[r * dim + k] * scale;
  }
  return y;
}

/** One modulated conv layer: sizes and scalars. */
export interface ModConvRefArgs {
  /** Input [B, I, H, W]. */
  x: Arr;
  /** Styles [B, I]. */
  s: Arr;
  /** Weight [O, I, 3, 3]. */
  w: Arr;
  /** Bias [O]. */
  bias: Arr;
  /** Noise [B, Ho, Wo] (already the image for this mode). */
  noise: Arr;
  strength: number;
  clamp: number | null;
  batch: number;
  cin: number;
  cout: number;
  height: number;
  width: number;
  /** Resample filter f [4, 4] for the up-sampling layer; absent for same size. */
  upFilter?: Arr;
}

/**
 * Spec §5: modulate and demodulate the weight per sample, convolve (same size or transposed
 * stride 2 + FIR with gain 4), then noise, bias, activation and clamp.
 * @returns [B, O, Ho, Wo]
 */
export function modconvRef(a: ModConvRefArgs): Float64Array {
  const { batch, cin, cout, height: h, width: w } = a;
  const up = a.upFilter !== undefined;
  const ho = up ? 2 * h : h, wo = up ? 2 * w : w;
  const y = new Float64Array(batch * cout * ho * wo);
  const wm = new Float64Array(cin * 9);
  const t = new Float64Array((2 * h + 1) * (2 * w + 1));
  for (let n = 0; n < batch; n++) {
    for (let o = 0; o < cout; o++) {
      let ss = 0;
      for (let i = 0; i < cin; i++) {
        for (let k = 0; k < 9; k++) {
          wm[i * 9 + k] = a.w[(o * cin + i) * 9 + k] * a.s[n * cin + i];
          ss += wm[i * 9 + k] ** 2;
        }
      }
      const d = 1 / Math.sqrt(ss + 1e-8);
      for (let k = 0; k < wm.length; k++) wm[k] *= d;
      const xAt = (i: number, p: number, q: number) =>
        p < 0 || p >= h || q < 0 || q >= w ? 0 : a.x[((n * cin + i) * h + p) * w + q];
      const out = (p: number, q: number) => ((n * cout + o) * ho + p) * wo + q;
      if (!up) {
        for (let p = 0; p < h; p++) {
          for (let q = 0; q < w; q++) {
            let sum = 0;
            for (let i = 0; i < cin; i++) {
              for (let u = 0; u < 3; u++) {
                for (let v = 0; v < 3; v++) {
                  sum += wm[i * 9 + u * 3 + v] * xAt(i, p + u - 1, q + v - 1);
                }
              }
            }
            y[out(p, q)] = sum;
          }
        }
      } else {
        const tw = 2 * w + 1, th = 2 * h + 1;
        t.fill(0);
        for (let i = 0; i < cin; i++) {
          for (let m = 0; m < h; m++) {
            for (let k = 0; k < w; k++) {
              for (let u = 0; u < 3; u++) {
                for (let v = 0; v < 3; v++) {
                  t[(2 * m + u) * tw + 2 * k + v] += wm[i * 9 + u * 3 + v] * xAt(i, m, k);
                }
              }
            }
          }
        }
        const f = a.upFilter!;
        for (let p = 0; p < ho; p++) {
          for (let q = 0; q < wo; q++) {
            let sum = 0;
            for (let ai = 0; ai < 4; ai++) {
              for (let bi = 0; bi < 4; bi++) {
                const tp = p + ai - 1, tq = q + bi - 1;
                if (tp < 0 || tp >= th || tq < 0 || tq >= tw) continue;
                sum += 4 * f[(3 - ai) * 4 + 3 - bi] * t[tp * tw + tq];
              }
            }
            y[out(p, q)] = sum;
          }
        }
      }
      for (let p = 0; p < ho; p++) {
        for (let q = 0; q < wo; q++) {
          const v = y[out(p, q)] + a.strength * a.noise[(n * ho + p) * wo + q] + a.bias[o];
          const g = lreluGain(v);
          y[out(p, q)] = a.clamp === null ? g : Math.min(a.clamp, Math.max(-a.clamp, g));
        }
      }
    }
  }
  return y;
}

/**
 * Spec §6 toRGB: `Σ_i W[c, i] s[n, i] x[n, i] + bias[c]` (s already divided by sqrt(I)).
 * @param x [B, I, H, W]
 * @param s [B, I]
 * @param w [C, I]
 * @param bias [C]
 * @returns [B, C, H, W]
 */
export function toRgbRef(
  x: Arr,
  s: Arr,
  w: Arr,
  bias: Arr,
  batch: number,
  cin: number,
  pixels: number,
  clamp: number | null,
): Float64Array {
  const cimg = bias.length;
  const y = new Float64Array(batch * cimg * pixels);
  for (let n = 0; n < batch; n++) {
    for (let c = 0; c < cimg; c++) {
      for (let p = 0; p < pixels; p++) {
        let sum = bias[c];
        for (let i = 0; i < cin; i++) {
          sum += w[c * cin + i] * s[n * cin + i] * x[(n * cin + i) * pixels + p];
        }
        y[(n * cimg + c) * pixels + p] = clamp === null
          ? sum
          : Math.min(clamp, Math.max(-clamp, sum));
      }
    }
  }
  return y;
}

/**
 * Spec §7 skip up-sampling: zero-insert onto the even pixels of a 2H x 2W grid, pad 2 before
 * and 1 after, convolve with 4 f.
 * @param x [planes, H, W]
 * @param f [4, 4]
 * @returns [planes, 2H, 2W]
 */
export function upfirRef(x: Arr, f: Arr, planes: number, h: number, w: number): Float64Array {
  const ho = 2 * h, wo = 2 * w, ph = ho + 3, pw = wo + 3;
  const y = new Float64Array(planes * ho * wo);
  const padded = new Float64Array(ph * pw);
  for (let c = 0; c < planes; c++) {
    padded.fill(0);
    for (let m = 0; m < h; m++) {
      for (let k = 0; k < w; k++) padded[(2 * m + 2) * pw + 2 * k + 2] = x[(c * h + m) * w + k];
    }
    for (let p = 0; p < ho; p++) {
      for (let q = 0; q < wo; q++) {
        let sum = 0;
        for (let a = 0; a < 4; a++) {
          for (let b = 0; b < 4; b++) {
            sum += padded[(p + a) * pw + q + b] * 4 * f[(3 - a) * 4 + 3 - b];
          }
        }
        y[(c * ho + p) * wo + q] = sum;
      }
    }
  }
  return y;
}

/**
 * Truncation `avg + psi (w − avg)` of the first `cutoff` layers of w broadcast to L layers.
 * @param w [B, D]
 * @param avg [D]
 * @returns [B, L, D]
 */
export function truncateRef(
  w: Arr,
  avg: Arr,
  layers: number,
  psi: number,
  cutoff = layers,
): Float64Array {
  const dim = avg.length, batch = w.length / dim;
  const ws = new Float64Array(batch * layers * dim);
  for (let n = 0; n < batch; n++) {
    for (let l = 0; l < layers; l++) {
      for (let k = 0; k < dim; k++) {
        const v = w[n * dim + k];
        ws[(n * layers + l) * dim + k] = l < cutoff ? avg[k] + psi * (v - avg[k]) : v;
      }
    }
  }
  return ws;
}
