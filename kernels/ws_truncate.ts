/** Broadcast of w to every style input, with optional truncation toward w_avg. */
import src from "./ws_truncate.wgsl" with { type: "text" };
import type { Gpu } from "./device.ts";
import { type Dispatch, groups, Kernel } from "./kernel.ts";
import type { Tensor } from "./tensor.ts";

const kernel = new Kernel("ws_truncate", src);

/** Params of a `wsTruncate` dispatch, for `Kernel.setParams` via `setTruncation`. */
function params(w: Tensor, ws: Tensor, psi: number, cutoff: number) {
  const [batch, layers, dim] = ws.shape;
  const broadcast = w.shape.length === 2;
  return {
    batch,
    layers,
    dim,
    batch_stride: broadcast ? dim : layers * dim,
    layer_stride: broadcast ? 0 : dim,
    cutoff: Math.max(0, Math.min(cutoff, layers)),
    psi,
  };
}

/**
 * Binds `ws[n, l] = l < cutoff ? avg + psi · (w[n, l] − avg) : w[n, l]`.
 * @param w latents [B, D] (broadcast to every layer) or [B, L, D]
 * @param avg truncation centre [D]
 * @param ws output [B, L, D] (must not be `w`)
 */
export function wsTruncate(
  gpu: Gpu,
  w: Tensor,
  avg: Tensor,
  ws: Tensor,
  psi: number,
  cutoff: number,
): Dispatch {
  ws.expectShape([-1, -1, -1], "ws_truncate output");
  const [batch, layers, dim] = ws.shape;
  if (w.shape.length === 2) w.expectShape([batch, dim], "ws_truncate input");
  else w.expectShape([batch, layers, dim], "ws_truncate input");
  avg.expectShape([dim], "ws_truncate average");
  return kernel.bind(gpu, [w, avg, ws], params(w, ws, psi, cutoff), [groups(ws.size, 64)]);
}

/** Rewrites psi and cutoff of a bound `wsTruncate` dispatch (no allocation). */
export function setTruncation(
  gpu: Gpu,
  dispatch: Dispatch,
  w: Tensor,
  ws: Tensor,
  psi: number,
  cutoff: number,
): void {
  kernel.setParams(gpu, dispatch, params(w, ws, psi, cutoff));
}
