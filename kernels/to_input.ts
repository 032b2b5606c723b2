/**
 * Converts generated images to classifier inputs exactly as real photos are
 * converted: uint8 quantisation, optional grayscale, area down-sampling.
 */
import type { Gpu } from "./device.ts";
import { type Dispatch, groups, Kernel } from "./kernel.ts";
import type { Tensor } from "./tensor.ts";
import src from "./to_input.wgsl" with { type: "text" };

const kernel = new Kernel("to_input", src);

/**
 * Binds the conversion `img [N, 3, R, R] → out [N, 3, S, S]`.
 * @param gray replicate luminance into all three channels
 */
export function bindToInput(gpu: Gpu, img: Tensor, out: Tensor, gray: boolean): Dispatch {
  const [n, c, r] = img.shape;
  img.expectShape([n, 3, r, r], "to_input image");
  const s = out.shape[2];
  out.expectShape([n, 3, s, s], "to_input output");
  if (c !== 3 || s > r) {
    throw new RangeError(`to_input: output size ${s} must not exceed the image size ${r}`);
  }
  return kernel.bind(gpu, [img, out], { n, r, s, gray: gray ? 1 : 0 }, [groups(n * s * s, 64)]);
}

/** Plain TypeScript reference of the same conversion, for tests. */
export function toInputReference(
  img: Float32Array,
  n: number,
  r: number,
  s: number,
  gray: boolean,
): Float32Array {
  const q = (v: number) => Math.min(255, Math.max(0, Math.floor(v * 127.5 + 128))) / 127.5 - 1;
  const out = new Float32Array(n * 3 * s * s);
  const scale = r / s;
  for (let b = 0; b < n; b++) {
    for (let oy = 0; oy < s; oy++) {
      for (let ox = 0; ox < s; ox++) {
        const acc = [0, 0, 0];
        const y0 = oy * scale, x0 = ox * scale;
        for (let sy = Math.floor(y0); sy < y0 + scale && sy < r; sy++) {
          const wy = Math.min(y0 + scale, sy + 1) - Math.max(y0, sy);
          for (let sx = Math.floor(x0); sx < x0 + scale && sx < r; sx++) {
            const wx = Math.min(x0 + scale, sx + 1) - Math.max(x0, sx);
            for (let c = 0; c < 3; c++) {
              acc[c] += wy * wx * q(img[((b * 3 + c) * r + sy) * r + sx]);
            }
          }
        }
        let v = acc.map((a) => a / (scale * scale));
        if (gray) {
          const l = 0.299 * v[0] + 0.587 * v[1] + 0.114 * v[2];
          v = [l, l, l];
        }
        for (let c = 0; c < 3; c++) out[((b * 3 + c) * s + oy) * s + ox] = v[c];
      }
    }
  }
  return out;
}
