/**
 * PNG output: a small encoder (per-row adaptive filters, zlib from `node:zlib`), image grids
 * of `[3, S, S]` tensors in [-1, 1], and accuracy-curve plots. Files are written atomically.
 */
import { deflateSync } from "node:zlib";
import { type LinePlotOptions, type LineSeries, type RasterImage, renderLinePlot } from "./plot.ts";
import { writeFileAtomic } from "./safetensors.ts";

export type { LinePlotOptions, LineSeries, RasterImage };

const _CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

function _crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) c = _CRC_TABLE[(c ^ bytes[i]) & 255] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function _chunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, data.length);
  for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i);
  out.set(data, 8);
  view.setUint32(8 + data.length, _crc32(out.subarray(4, 8 + data.length)));
  return out;
}

function _paeth(a: number, b: number, c: number): number {
  const p = a + b - c, pa = Math.abs(p - a), pb = Math.abs(p - b), pc = Math.abs(p - c);
  return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}

/** PNG filter predictors: none, left, up, average, Paeth. */
function _predict(filter: number, a: number, b: number, c: number): number {
  if (filter === 0) return 0;
  if (filter === 1) return a;
  if (filter === 2) return b;
  if (filter === 3) return (a + b) >> 1;
  return _paeth(a, b, c);
}

/** Filters each row with the PNG filter (0..4) whose output has the smallest magnitude. */
function _filterRows(image: RasterImage): Uint8Array {
  const { width, height, channels: bpp, pixels } = image;
  const stride = width * bpp;
  const out = new Uint8Array(height * (stride + 1));
  const trial = new Uint8Array(stride);
  const zero = new Uint8Array(stride);
  for (let y = 0; y < height; y++) {
    const row = pixels.subarray(y * stride, (y + 1) * stride);
    const up = y > 0 ? pixels.subarray((y - 1) * stride, y * stride) : zero;
    let best = -1, bestCost = Infinity;
    for (let f = 0; f <= 4; f++) {
      let cost = 0;
      for (let i = 0; i < stride; i++) {
        const a = i >= bpp ? row[i - bpp] : 0, b = up[i], c = i >= bpp ? up[i - bpp] : 0;
        const v = (row[i] - _predict(f, a, b, c)) & 255;
        trial[i] = v;
        cost += v < 128 ? v : 256 - v;
      }
      if (cost < bestCost) {
        bestCost = cost;
        best = f;
        out[y * (stride + 1)] = f;
        out.set(trial, y * (stride + 1) + 1);
      }
    }
    if (best < 0) throw new Error("unreachable: no PNG filter chosen");
  }
  return out;
}

/** Encodes 8-bit gray (1), RGB (3) or RGBA (4) pixels as a PNG file. */
export function encodePng(image: RasterImage): Uint8Array {
  const { width, height, channels, pixels } = image;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new RangeError(`PNG size ${width}x${height}: expected positive integers`);
  }
  if (pixels.length !== width * height * channels) {
    throw new RangeError(
      `PNG pixels: ${pixels.length} bytes, expected ${width}x${height}x${channels}`,
    );
  }
  const header = new Uint8Array(13);
  const view = new DataView(header.buffer);
  view.setUint32(0, width);
  view.setUint32(4, height);
  header[8] = 8;
  header[9] = { 1: 0, 3: 2, 4: 6 }[channels];
  const data = new Uint8Array(deflateSync(_filterRows(image), { level: 9 }));
  const parts = [
    new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    _chunk("IHDR", header),
    _chunk("IDAT", data),
    _chunk("IEND", new Uint8Array(0)),
  ];
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Writes a PNG atomically. */
export async function writePng(path: string, image: RasterImage): Promise<void> {
  await writeFileAtomic(path, encodePng(image));
}

/** Side S of a `[3, S, S]` tensor; throws naming `what` when the length is not 3 S^2. */
export function tensorSide(tensor: Float32Array, what: string): number {
  const side = Math.round(Math.sqrt(tensor.length / 3));
  if (side < 1 || 3 * side * side !== tensor.length) {
    throw new RangeError(`${what}: length ${tensor.length} is not 3*S*S`);
  }
  return side;
}

/** Options for image grids. */
export interface GridOptions {
  /** Integer nearest-neighbour magnification of each image (default 1). */
  scale?: number;
  /** Pixels between and around images (default 2). */
  pad?: number;
  /** Gray level of the padding (default 255, white). */
  padValue?: number;
}

/**
 * Lays `[3, S, S]` images in [-1, 1] out row by row in a `rows x cols` RGB grid;
 * values are clamped and mapped to 0..255. Unused cells stay padding-coloured.
 */
export function renderGrid(
  images: readonly Float32Array[],
  rows: number,
  cols: number,
  options: GridOptions = {},
): RasterImage {
  const scale = options.scale ?? 1, pad = options.pad ?? 2, padValue = options.padValue ?? 255;
  if (!Number.isInteger(scale) || scale < 1) throw new RangeError(`scale ${scale}: need >= 1`);
  if (!Number.isInteger(pad) || pad < 0) throw new RangeError(`pad ${pad}: need >= 0`);
  if (images.length === 0) throw new RangeError("grid: no images given");
  if (images.length > rows * cols) {
    throw new RangeError(`grid: ${images.length} images do not fit ${rows}x${cols} cells`);
  }
  const side = tensorSide(images[0], "grid image 0");
  images.forEach((img, i) => {
    if (tensorSide(img, `grid image ${i}`) !== side) {
      throw new RangeError(`grid image ${i}: side ${tensorSide(img, "")}, expected ${side}`);
    }
  });
  const cell = side * scale;
  const width = cols * cell + (cols + 1) * pad, height = rows * cell + (rows + 1) * pad;
  const pixels = new Uint8Array(width * height * 3).fill(padValue);
  const plane = side * side;
  images.forEach((img, i) => {
    const ox = pad + (i % cols) * (cell + pad), oy = pad + Math.floor(i / cols) * (cell + pad);
    for (let y = 0; y < cell; y++) {
      for (let x = 0; x < cell; x++) {
        const src = Math.floor(y / scale) * side + Math.floor(x / scale);
        const dst = 3 * ((oy + y) * width + ox + x);
        for (let c = 0; c < 3; c++) {
          const v = Math.min(1, Math.max(-1, img[c * plane + src]));
          pixels[dst + c] = Math.round((v + 1) * 127.5);
        }
      }
    }
  });
  return { width, height, channels: 3, pixels };
}

/** Writes a grid of `[3, S, S]` images in [-1, 1] as a PNG, atomically. */
export async function writeGridPng(
  path: string,
  images: readonly Float32Array[],
  rows: number,
  cols: number,
  options: GridOptions = {},
): Promise<void> {
  await writePng(path, renderGrid(images, rows, cols, options));
}

/** Renders curves (e.g. accuracy against step) and writes them as a PNG, atomically. */
export async function writeLinePlotPng(
  path: string,
  series: readonly LineSeries[],
  options: LinePlotOptions,
): Promise<void> {
  await writePng(path, renderLinePlot(series, options));
}
