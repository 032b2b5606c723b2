/** Demodulation coefficients of a StyleGAN2 modulated convolution. */
import src from "./demod.wgsl" with { type: "text" };
import type { Gpu } from "./device.ts";
import { type Dispatch, groups, Kernel } from "./kernel.ts";
import type { Tensor } from "./tensor.ts";

const kernel = new Kernel("demod", src);

/**
 * `wsq[o, i] = Σ_uv W[o, i, u, v]²`, computed once per layer on the CPU.
 * @param weight conv weight [O, I, kh, kw], row-major
 * @returns [O, I]
 */
export function squaredTapSums(weight: Float32Array, cout: number, cin: number): Float32Array {
  const taps = weight.length / (cout * cin);
  const out = new Float32Array(cout * cin);
  for (let oi = 0; oi < cout * cin; oi++) {
    let sum = 0;
    for (let k = 0; k < taps; k++) sum += weight[oi * taps + k] ** 2;
    out[oi] = sum;
  }
  return out;
}

/**
 * Binds `d[n, o] = 1 / sqrt(Σ_i s[n, i]² · wsq[o, i] + 1e-8)`.
 * @param s styles [B, I]
 * @param wsq squared tap sums [O, I]
 * @param d output [B, O]
 */
export function demod(gpu: Gpu, s: Tensor, wsq: Tensor, d: Tensor): Dispatch {
  s.expectShape([-1, -1], "demod styles");
  const [batch, cin] = s.shape;
  const cout = wsq.shape[0];
  wsq.expectShape([cout, cin], "demod squared weights");
  d.expectShape([batch, cout], "demod output");
  return kernel.bind(gpu, [s, wsq, d], { batch, cin, cout }, [groups(cout, 64), batch]);
}
