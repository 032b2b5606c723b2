/**
 * Fully connected layer with gains and optional leaky ReLU: StyleGAN2 mapping layers and the
 * style affines of the synthesis layers. It is `matmul` with B = Wᵀ (W stored [O, I]), a
 * strided A and the bias / activation epilogue; there is no separate linear kernel.
 */
import type { Gpu } from "./device.ts";
import type { Dispatch } from "./kernel.ts";
import { matmul } from "./matmul.ts";
import type { Tensor } from "./tensor.ts";

/** Gains, activation and the input row layout of a `linear` dispatch. */
export interface LinearOptions {
  /** Factor applied to `x · wᵀ` (e.g. `lr_mul / sqrt(fan_in)`). */
  wGain: number;
  /** Factor applied to the bias. */
  bGain: number;
  /** Apply `sqrt(2) · lrelu(·, 0.2)` after the bias. */
  lrelu: boolean;
  /** Elements between rows of x (default: in features). */
  xStride?: number;
  /** Element offset of the features inside each x row (default 0). */
  xOffset?: number;
}

/**
 * Binds `y[r, j] = act(Σ_k x[r, xOffset + k] · w[j, k] · wGain + b[j] · bGain)`.
 * @param x input rows [R, xStride] (any shape with R leading and R · xStride elements)
 * @param w weight [O, I]
 * @param b bias [O]
 * @param y output [R, O]
 */
export function linear(
  gpu: Gpu,
  x: Tensor,
  w: Tensor,
  b: Tensor,
  y: Tensor,
  opts: LinearOptions,
): Dispatch {
  const [cout, cin] = w.shape;
  const rows = y.shape[0];
  const xStride = opts.xStride ?? cin;
  const xOffset = opts.xOffset ?? 0;
  w.expectShape([-1, -1], "linear weight");
  b.expectShape([cout], "linear bias");
  y.expectShape([rows, cout], "linear output");
  if (x.shape[0] !== rows || x.size !== rows * xStride) {
    throw new RangeError(
      `linear: input ${x.label} has ${x.size} values in ${x.shape[0]} rows, expected ` +
        `${rows} rows of ${xStride}`,
    );
  }
  if (xOffset + cin > xStride) {
    throw new RangeError(`linear: features ${xOffset}..${xOffset + cin} exceed row ${xStride}`);
  }
  return matmul(gpu, x, w, y, {
    transB: true,
    lda: xStride,
    aOffset: xOffset,
    alpha: opts.wGain,
    bias: b,
    beta: opts.bGain,
    lrelu: opts.lrelu,
  });
}
