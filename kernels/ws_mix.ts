/** Style mixing: takes a range of style inputs from a second latent stack. */
import src from "./ws_mix.wgsl" with { type: "text" };
import type { Gpu } from "./device.ts";
import { type Dispatch, groups, Kernel } from "./kernel.ts";
import type { Tensor } from "./tensor.ts";

const kernel = new Kernel("ws_mix", src);

function params(ws: Tensor, lo: number, hi: number) {
  const [, layers, dim] = ws.shape;
  return { total: ws.size, layers, dim, lo, hi };
}

function checkRange(layers: number, lo: number, hi: number): void {
  if (!(Number.isInteger(lo) && Number.isInteger(hi) && 0 <= lo && lo <= hi && hi <= layers)) {
    throw new RangeError(`ws_mix: style range ${lo}..${hi} is outside 0..${layers}`);
  }
}

/**
 * Binds `ws[n, l] = lo <= l < hi ? b[n, l] : a[n, l]`.
 * @param a base latents [B, L, D]
 * @param b latents supplying style inputs lo..hi-1 [B, L, D]
 * @param ws output [B, L, D]
 */
export function wsMix(
  gpu: Gpu,
  a: Tensor,
  b: Tensor,
  ws: Tensor,
  lo: number,
  hi: number,
): Dispatch {
  ws.expectShape([-1, -1, -1], "ws_mix output");
  a.expectShape(ws.shape, "ws_mix base");
  b.expectShape(ws.shape, "ws_mix source");
  checkRange(ws.shape[1], lo, hi);
  return kernel.bind(gpu, [a, b, ws], params(ws, lo, hi), [groups(ws.size, 64)]);
}

/** Rewrites the style range of a bound `wsMix` dispatch (no allocation). */
export function setMixRange(gpu: Gpu, dispatch: Dispatch, ws: Tensor, lo: number, hi: number) {
  checkRange(ws.shape[1], lo, hi);
  kernel.setParams(gpu, dispatch, params(ws, lo, hi));
}
