/**
 * A small raster line-plot renderer (axes, ticks, tick labels, title, legend) drawn into
 * 8-bit RGB pixels with the bitmap font, for accuracy curves in run directories.
 */
import { glyph, GLYPH_ADVANCE, GLYPH_HEIGHT, GLYPH_WIDTH, textWidth } from "./bitmap_font.ts";

/** An 8-bit image, row-major interleaved: `pixels.length = height * width * channels`. */
export interface RasterImage {
  /** Width in pixels. */
  width: number;
  /** Height in pixels. */
  height: number;
  /** 1 (gray), 3 (RGB) or 4 (RGBA). */
  channels: 1 | 3 | 4;
  /** The samples. */
  pixels: Uint8Array;
}

/** An RGB colour: `"#rrggbb"` or `[r, g, b]` with 0..255 components. */
export type Color = string | readonly [number, number, number];

/** One curve: points (xs[i], ys[i]); non-finite values break the line. */
export interface LineSeries {
  /** Legend name. */
  name: string;
  /** X values. */
  xs: readonly number[];
  /** Y values (same length as xs). */
  ys: readonly number[];
  /** Line colour (default: from a fixed palette by position). */
  color?: Color;
  /** Half-widths of error bars at each point (e.g. 95% CIs); drawn as vertical whiskers. */
  errors?: readonly number[];
}

/** A vertical dashed line across the plot at `x`, labelled at the top (e.g. an early stop). */
export interface PlotMarker {
  /** X position in data units. */
  x: number;
  /** Text drawn beside the line, near the top. */
  label: string;
  /** Line and text colour (default dark gray). */
  color?: Color;
}

/** Plot labels and size. */
export interface LinePlotOptions {
  /** Title above the plot. */
  title: string;
  /** X axis label. */
  xLabel: string;
  /** Y axis label (drawn vertically). */
  yLabel: string;
  /** Image width in pixels (default 640). */
  width?: number;
  /** Image height in pixels (default 420). */
  height?: number;
  /** Fixed y range, e.g. [0, 1] for accuracy (default: from the data). */
  yRange?: readonly [number, number];
  /** Vertical marker lines (default none). */
  markers?: readonly PlotMarker[];
}

const _PALETTE: readonly (readonly [number, number, number])[] = [
  [31, 119, 180],
  [214, 39, 40],
  [44, 160, 44],
  [255, 127, 14],
  [148, 103, 189],
  [140, 86, 75],
  [227, 119, 194],
  [23, 190, 207],
];

/** Parses a colour; throws on a malformed string. */
export function parseColor(color: Color): [number, number, number] {
  if (typeof color !== "string") return [color[0], color[1], color[2]];
  const m = /^#([0-9a-f]{6})$/i.exec(color);
  if (!m) throw new RangeError(`colour ${JSON.stringify(color)}: expected "#rrggbb"`);
  const v = parseInt(m[1], 16);
  return [(v >> 16) & 255, (v >> 8) & 255, v & 255];
}

/** An RGB drawing surface with a white background. */
class _Canvas {
  readonly pixels: Uint8Array;
  constructor(readonly width: number, readonly height: number) {
    this.pixels = new Uint8Array(width * height * 3).fill(255);
  }

  set(x: number, y: number, c: readonly number[]): void {
    x = Math.round(x);
    y = Math.round(y);
    if (x < 0 || y < 0 || x >= this.width || y >= this.height) return;
    const i = 3 * (y * this.width + x);
    this.pixels[i] = c[0];
    this.pixels[i + 1] = c[1];
    this.pixels[i + 2] = c[2];
  }

  rect(x0: number, y0: number, w: number, h: number, c: readonly number[]): void {
    for (let y = y0; y < y0 + h; y++) for (let x = x0; x < x0 + w; x++) this.set(x, y, c);
  }

  /** A line of the given thickness (square pen), by stepping along the longer axis. */
  line(x0: number, y0: number, x1: number, y1: number, c: readonly number[], pen = 1): void {
    const steps = Math.max(1, Math.ceil(Math.max(Math.abs(x1 - x0), Math.abs(y1 - y0))));
    const lo = -Math.floor((pen - 1) / 2);
    for (let s = 0; s <= steps; s++) {
      const x = Math.round(x0 + ((x1 - x0) * s) / steps);
      const y = Math.round(y0 + ((y1 - y0) * s) / steps);
      for (let dy = lo; dy < lo + pen; dy++) {
        for (let dx = lo; dx < lo + pen; dx++) {
          this.set(x + dx, y + dy, c);
        }
      }
    }
  }

  /** Text with its top-left corner at (x, y); `vertical` reads bottom to top. */
  text(x: number, y: number, s: string, c: readonly number[], vertical = false): void {
    for (let k = 0; k < s.length; k++) {
      const bits = glyph(s[k]);
      for (let gy = 0; gy < GLYPH_HEIGHT; gy++) {
        for (let gx = 0; gx < GLYPH_WIDTH; gx++) {
          if (!bits[gy * GLYPH_WIDTH + gx]) continue;
          const along = k * GLYPH_ADVANCE + gx;
          if (vertical) this.set(x + gy, y - along, c);
          else this.set(x + along, y + gy, c);
        }
      }
    }
  }
}

/** A "nice" tick step (1, 2 or 5 times a power of ten) giving about `target` ticks. */
export function niceStep(span: number, target = 5): number {
  const raw = span / target;
  const p = 10 ** Math.floor(Math.log10(raw));
  const f = raw / p;
  return (f < 1.5 ? 1 : f < 3.5 ? 2 : f < 7.5 ? 5 : 10) * p;
}

function _range(values: number[], fixed?: readonly [number, number]): [number, number, number] {
  let lo = fixed ? fixed[0] : Math.min(...values);
  let hi = fixed ? fixed[1] : Math.max(...values);
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) [lo, hi] = [0, 1];
  if (hi - lo < 1e-12) [lo, hi] = [lo - 0.5, hi + 0.5];
  const step = niceStep(hi - lo);
  if (!fixed) [lo, hi] = [Math.floor(lo / step + 1e-9) * step, Math.ceil(hi / step - 1e-9) * step];
  return [lo, hi, step];
}

function _ticks(lo: number, hi: number, step: number): number[] {
  const out: number[] = [];
  for (let k = Math.ceil(lo / step - 1e-9); k * step <= hi + step * 1e-9; k++) out.push(k * step);
  return out;
}

function _label(v: number, step: number): string {
  const decimals = Math.max(0, -Math.floor(Math.log10(step) + 1e-9));
  const s = v.toFixed(Math.min(decimals, 6));
  return s === "-0" ? "0" : s.replace(/^-0(\.0+)?$/, "0$1");
}

/** Renders the series as an RGB line plot. */
export function renderLinePlot(
  series: readonly LineSeries[],
  options: LinePlotOptions,
): RasterImage {
  const width = options.width ?? 640, height = options.height ?? 420;
  if (series.length === 0) throw new RangeError("line plot: no series given");
  const xsAll: number[] = [], ysAll: number[] = [];
  for (const s of series) {
    if (s.xs.length !== s.ys.length) {
      throw new RangeError(`series ${s.name}: ${s.xs.length} xs but ${s.ys.length} ys`);
    }
    if (s.errors && s.errors.length !== s.xs.length) {
      throw new RangeError(`series ${s.name}: ${s.xs.length} xs but ${s.errors.length} errors`);
    }
    s.xs.forEach((x, i) => {
      if (Number.isFinite(x) && Number.isFinite(s.ys[i])) {
        const e = Math.abs(s.errors?.[i] ?? 0);
        xsAll.push(x);
        ysAll.push(s.ys[i] - (Number.isFinite(e) ? e : 0), s.ys[i] + (Number.isFinite(e) ? e : 0));
      }
    });
  }
  for (const m of options.markers ?? []) if (Number.isFinite(m.x)) xsAll.push(m.x);
  const [x0, x1, xStep] = _range(xsAll);
  const [y0, y1, yStep] = _range(ysAll, options.yRange);
  const xTicks = _ticks(x0, x1, xStep), yTicks = _ticks(y0, y1, yStep);
  const yTickWidth = Math.max(...yTicks.map((v) => textWidth(_label(v, yStep))));
  const legendWidth = Math.max(...series.map((s) => textWidth(s.name))) + 28;

  const left = 8 + GLYPH_HEIGHT + 8 + yTickWidth + 6, right = width - legendWidth - 12;
  const top = 12 + GLYPH_HEIGHT + 12, bottom = height - (6 + GLYPH_HEIGHT + 10 + GLYPH_HEIGHT + 8);
  if (right - left < 40 || bottom - top < 40) {
    throw new RangeError(`line plot: ${width}x${height} is too small for labels and legend`);
  }
  const px = (x: number) => left + ((x - x0) / (x1 - x0)) * (right - left);
  const py = (y: number) => bottom - ((y - y0) / (y1 - y0)) * (bottom - top);
  const canvas = new _Canvas(width, height);
  const ink = [0, 0, 0], grid = [225, 225, 225];

  for (const v of xTicks) {
    const x = Math.round(px(v));
    canvas.line(x, top, x, bottom, grid);
    canvas.line(x, bottom, x, bottom + 4, ink);
    const s = _label(v, xStep);
    canvas.text(x - Math.floor(textWidth(s) / 2), bottom + 7, s, ink);
  }
  for (const v of yTicks) {
    const y = Math.round(py(v));
    canvas.line(left, y, right, y, grid);
    canvas.line(left - 4, y, left, y, ink);
    const s = _label(v, yStep);
    canvas.text(left - 6 - textWidth(s), y - 3, s, ink);
  }
  canvas.line(left, top, left, bottom, ink);
  canvas.line(left, bottom, right, bottom, ink);

  for (const m of options.markers ?? []) {
    if (!Number.isFinite(m.x)) continue;
    const color = parseColor(m.color ?? [90, 90, 90]);
    const x = Math.round(px(m.x));
    for (let y = top; y < bottom; y += 6) canvas.line(x, y, x, Math.min(bottom, y + 3), color);
    const w = textWidth(m.label);
    const tx = x + 4 + w <= right ? x + 4 : x - 4 - w;
    canvas.text(tx, top + 2, m.label, color);
  }

  series.forEach((s, k) => {
    const color = parseColor(s.color ?? _PALETTE[k % _PALETTE.length]);
    let prev: [number, number] | undefined;
    for (let i = 0; i < s.xs.length; i++) {
      if (!Number.isFinite(s.xs[i]) || !Number.isFinite(s.ys[i])) {
        prev = undefined;
        continue;
      }
      const p: [number, number] = [px(s.xs[i]), py(s.ys[i])];
      if (prev) canvas.line(prev[0], prev[1], p[0], p[1], color, 2);
      canvas.rect(Math.round(p[0]) - 1, Math.round(p[1]) - 1, 3, 3, color);
      const e = Math.abs(s.errors?.[i] ?? 0);
      if (e > 0 && Number.isFinite(e)) {
        const clamp = (y: number) => Math.min(bottom, Math.max(top, y));
        const [lo, hi] = [clamp(py(s.ys[i] - e)), clamp(py(s.ys[i] + e))];
        canvas.line(p[0], lo, p[0], hi, color);
        canvas.line(p[0] - 3, lo, p[0] + 3, lo, color);
        canvas.line(p[0] - 3, hi, p[0] + 3, hi, color);
      }
      prev = p;
    }
    const ly = top + 4 + k * (GLYPH_HEIGHT + 8);
    canvas.line(right + 10, ly + 3, right + 22, ly + 3, color, 2);
    canvas.text(right + 26, ly, s.name, ink);
  });

  canvas.text(Math.round((left + right - textWidth(options.title)) / 2), 10, options.title, ink);
  const xl = options.xLabel;
  canvas.text(Math.round((left + right - textWidth(xl)) / 2), height - GLYPH_HEIGHT - 6, xl, ink);
  const yl = options.yLabel;
  canvas.text(8, Math.round((top + bottom + textWidth(yl)) / 2), yl, ink, true);
  return { width, height, channels: 3, pixels: canvas.pixels };
}
