/**
 * Face image preprocessing: square crop, anti-aliased resize to S x S, values in [-1, 1],
 * colour or grayscale, as a `[3, S, S]` CHW Float32Array (the generator's output layout).
 */
import type { DecodedImage } from "./decode.ts";

/** `rgb` keeps colour; `gray` uses luminance 0.299 R + 0.587 G + 0.114 B on all 3 channels. */
export type ColorMode = "rgb" | "gray";

/**
 * `celeba`: the aligned-CelebA square, rows 20..197 of a 178 x 218 image (scaled for other
 * sizes of the same framing). `center`: the largest centred square (identity when square).
 */
export type CropMode = "celeba" | "center";

/** A pixel rectangle inside an image. */
export interface CropBox {
  /** Left column. */
  x: number;
  /** Top row. */
  y: number;
  /** Width in pixels. */
  width: number;
  /** Height in pixels. */
  height: number;
}

/** CelebA aligned geometry: a 178 x 218 image whose square crop starts at row 20. */
export const CELEBA_WIDTH = 178;
/** Height of an aligned CelebA image. */
export const CELEBA_HEIGHT = 218;
/** First row of the CelebA square crop. */
export const CELEBA_CROP_TOP = 20;

/** Options for {@link preprocess}. */
export interface PreprocessOptions {
  /** Output side S. */
  size: number;
  /** Colour handling. */
  mode: ColorMode;
  /** Crop geometry. */
  crop: CropMode;
}

/**
 * The square crop for an image. CelebA: full width, starting at row 20 for 178 x 218
 * (scaled by height / 218 otherwise, e.g. row 10 at 89 x 109). Centre: side min(W, H).
 */
export function cropBox(width: number, height: number, crop: CropMode): CropBox {
  if (crop === "center") {
    const side = Math.min(width, height);
    return {
      x: Math.floor((width - side) / 2),
      y: Math.floor((height - side) / 2),
      width: side,
      height: side,
    };
  }
  const top = Math.round((CELEBA_CROP_TOP * height) / CELEBA_HEIGHT);
  if (top + width > height) {
    throw new RangeError(
      `CelebA crop needs height >= ${top + width} for width ${width}, got ${width}x${height} ` +
        `(aligned CelebA images are ${CELEBA_WIDTH}x${CELEBA_HEIGHT})`,
    );
  }
  return { x: 0, y: top, width, height: width };
}

/**
 * Crops, resizes and normalises one image to `[3, S, S]` in [-1, 1].
 * Downsampling averages the exact source area under each output pixel (anti-aliased);
 * upsampling interpolates bilinearly.
 */
export function preprocess(image: DecodedImage, options: PreprocessOptions): Float32Array {
  const { size, mode } = options;
  if (!Number.isInteger(size) || size < 1) throw new RangeError(`size ${size}: expected >= 1`);
  const box = cropBox(image.width, image.height, options.crop);
  const planes = mode === "gray" ? 1 : 3;
  const cropped = _cropPlanes(image, box, mode);
  const out = new Float32Array(3 * size * size);
  const plane = size * size;
  for (let c = 0; c < planes; c++) {
    const src = cropped.subarray(c * box.width * box.height, (c + 1) * box.width * box.height);
    const resized = resizePlane(src, box.width, box.height, size, size);
    for (let i = 0; i < plane; i++) out[c * plane + i] = resized[i] / 127.5 - 1;
  }
  if (planes === 1) {
    out.copyWithin(plane, 0, plane);
    out.copyWithin(2 * plane, 0, plane);
  }
  return out;
}

/** Crops to planar float values in [0, 255]: 3 planes, or 1 luminance plane in gray mode. */
function _cropPlanes(image: DecodedImage, box: CropBox, mode: ColorMode): Float32Array {
  const { width: w, height: h } = box;
  const px = image.pixels;
  const n = w * h;
  const out = new Float32Array(mode === "gray" ? n : 3 * n);
  for (let y = 0; y < h; y++) {
    let src = 3 * ((box.y + y) * image.width + box.x);
    let dst = y * w;
    for (let x = 0; x < w; x++, src += 3, dst++) {
      if (mode === "gray") {
        out[dst] = 0.299 * px[src] + 0.587 * px[src + 1] + 0.114 * px[src + 2];
      } else {
        out[dst] = px[src];
        out[n + dst] = px[src + 1];
        out[2 * n + dst] = px[src + 2];
      }
    }
  }
  return out;
}

/** Per output index, the source indices and weights (summing to 1) along one axis. */
interface _AxisWeights {
  start: Int32Array;
  count: Int32Array;
  offset: Int32Array;
  weight: Float32Array;
}

const _weightCache = new Map<string, _AxisWeights>();

/**
 * Resampling weights from `n` source samples to `m` outputs. For m <= n, output o covers
 * source interval [o n/m, (o+1) n/m) and each source pixel is weighted by its overlap;
 * for m > n, bilinear weights at centres (o + 0.5) n/m - 0.5, clamped at the edges.
 */
function _axisWeights(n: number, m: number): _AxisWeights {
  const key = `${n}>${m}`;
  const cached = _weightCache.get(key);
  if (cached) return cached;
  const start = new Int32Array(m), count = new Int32Array(m), offset = new Int32Array(m);
  const idx: number[] = [], wts: number[] = [];
  const scale = n / m;
  for (let o = 0; o < m; o++) {
    offset[o] = wts.length;
    if (m <= n) {
      const lo = o * scale, hi = (o + 1) * scale;
      const first = Math.floor(lo), last = Math.min(n - 1, Math.ceil(hi) - 1);
      for (let i = first; i <= last; i++) {
        const overlap = Math.min(hi, i + 1) - Math.max(lo, i);
        if (overlap > 1e-9) {
          idx.push(i);
          wts.push(overlap / scale);
        }
      }
    } else {
      const centre = Math.min(n - 1, Math.max(0, (o + 0.5) * scale - 0.5));
      const i0 = Math.floor(centre), t = centre - i0;
      idx.push(i0);
      wts.push(1 - t);
      if (t > 0 && i0 + 1 < n) {
        idx.push(i0 + 1);
        wts.push(t);
      }
    }
    start[o] = idx[offset[o]];
    count[o] = wts.length - offset[o];
  }
  const weights = { start, count, offset, weight: Float32Array.from(wts) };
  _weightCache.set(key, weights);
  return weights;
}

/** Resizes one `[h, w]` plane to `[outH, outW]` (separable: rows, then columns). */
export function resizePlane(
  src: Float32Array,
  w: number,
  h: number,
  outW: number,
  outH: number,
): Float32Array {
  if (w === outW && h === outH) return src.slice();
  const wx = _axisWeights(w, outW), wy = _axisWeights(h, outH);
  const tmp = new Float32Array(h * outW); // [h, outW]
  for (let y = 0; y < h; y++) {
    const row = y * w;
    for (let o = 0; o < outW; o++) {
      let acc = 0;
      const base = wx.offset[o], s = wx.start[o];
      for (let k = 0; k < wx.count[o]; k++) acc += wx.weight[base + k] * src[row + s + k];
      tmp[y * outW + o] = acc;
    }
  }
  const out = new Float32Array(outH * outW);
  for (let o = 0; o < outH; o++) {
    const base = wy.offset[o], s = wy.start[o];
    for (let k = 0; k < wy.count[o]; k++) {
      const wgt = wy.weight[base + k];
      const row = (s + k) * outW;
      for (let x = 0; x < outW; x++) out[o * outW + x] += wgt * tmp[row + x];
    }
  }
  return out;
}
