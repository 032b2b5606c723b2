/**
 * Image decoding to 8-bit interleaved RGB: JPEG and PNG through imagescript's
 * WebAssembly / plain-JS codecs, binary (P5/P6) and ASCII (P2/P3) PNM parsed here.
 *
 * imagescript's package entry point loads a native addon (it needs `--allow-ffi`), so we
 * import its WebAssembly JPEG decoder and its JS PNG decoder by sub-path instead.
 */
import jpegCodec from "imagescript/wasm/node/jpeg.js";
import pngCodec from "imagescript/png/node.js";

/** A decoded image: `pixels` is row-major interleaved RGB, `height * width * 3` bytes. */
export interface DecodedImage {
  /** Width in pixels. */
  width: number;
  /** Height in pixels. */
  height: number;
  /** Always 3: grayscale sources are replicated to R = G = B. */
  channels: 3;
  /** Channels in the file (1 for grayscale, 3 for colour), for information. */
  sourceChannels: 1 | 3;
  /** `[H, W, 3]` bytes. */
  pixels: Uint8Array;
}

/** Why an image could not be decoded. */
export type DecodeFailure = "corrupt" | "truncated" | "unsupported";

/** A file that could not be decoded; the message names the file and the reason. */
export class ImageDecodeError extends Error {
  /** The file (or label) that failed. */
  readonly path: string;
  /** The kind of failure. */
  readonly reason: DecodeFailure;

  /** Builds `"<path>: <reason> image (<detail>)"`. */
  constructor(path: string, reason: DecodeFailure, detail: string) {
    super(`${path}: ${reason} image (${detail})`);
    this.name = "ImageDecodeError";
    this.path = path;
    this.reason = reason;
  }
}

/** Container formats told apart by their first bytes. */
export type ImageFormat = "jpeg" | "png" | "pnm" | "unknown";

/** Detects the format from the magic bytes (not the file name). */
export function detectFormat(bytes: Uint8Array): ImageFormat {
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) {
    return "jpeg";
  }
  if (bytes.length >= 8 && PNG_SIGNATURE.every((b, i) => bytes[i] === b)) return "png";
  if (bytes.length >= 2 && bytes[0] === 0x50 && bytes[1] >= 0x31 && bytes[1] <= 0x36) {
    return "pnm";
  }
  return "unknown";
}

/** Decodes image bytes; `path` only labels errors. */
export async function decodeImage(bytes: Uint8Array, path: string): Promise<DecodedImage> {
  const format = detectFormat(bytes);
  if (format === "jpeg") return await _decodeJpeg(bytes, path);
  if (format === "png") return _decodePng(bytes, path);
  if (format === "pnm") return parsePnm(bytes, path);
  if (bytes.length === 0) throw new ImageDecodeError(path, "truncated", "empty file");
  throw new ImageDecodeError(path, "unsupported", "not JPEG, PNG or PGM/PPM");
}

/** Reads and decodes an image file. */
export async function decodeImageFile(path: string): Promise<DecodedImage> {
  return await decodeImage(await Deno.readFile(path), path);
}

// ---------------------------------------------------------------- PNM (PGM / PPM)

/**
 * Parses a PGM (P2 ASCII, P5 binary) or PPM (P3 ASCII, P6 binary) image. Samples are
 * scaled from `[0, maxval]` to `[0, 255]`; 16-bit binary samples are big-endian.
 */
export function parsePnm(bytes: Uint8Array, path: string): DecodedImage {
  const kind = bytes[1] - 0x30; // 2, 3, 5 or 6
  if (bytes[0] !== 0x50 || ![2, 3, 5, 6].includes(kind)) {
    const magic = String.fromCharCode(bytes[0] ?? 0x3f, bytes[1] ?? 0x3f);
    throw new ImageDecodeError(path, "unsupported", `PNM type ${magic}; supported P2 P3 P5 P6`);
  }
  const src = kind === 3 || kind === 6 ? 3 : 1;
  const cursor = { at: 2 };
  const width = _headerInt(bytes, cursor, path, "width");
  const height = _headerInt(bytes, cursor, path, "height");
  const maxval = _headerInt(bytes, cursor, path, "maxval");
  if (width < 1 || height < 1) {
    throw new ImageDecodeError(path, "corrupt", `size ${width}x${height}`);
  }
  if (maxval < 1 || maxval > 65535) {
    throw new ImageDecodeError(path, "corrupt", `maxval ${maxval}; expected 1..65535`);
  }
  const count = width * height * src;
  const samples = new Uint16Array(count);
  if (kind === 5 || kind === 6) {
    cursor.at++; // the single whitespace byte ending the header
    const bytesPer = maxval > 255 ? 2 : 1;
    const need = count * bytesPer;
    if (bytes.length - cursor.at < need) {
      const have = Math.max(0, bytes.length - cursor.at);
      throw new ImageDecodeError(path, "truncated", `${have} of ${need} pixel bytes`);
    }
    const data = bytes.subarray(cursor.at);
    for (let i = 0; i < count; i++) {
      samples[i] = bytesPer === 2 ? (data[2 * i] << 8) | data[2 * i + 1] : data[i];
    }
  } else {
    for (let i = 0; i < count; i++) {
      if (_skipSpace(bytes, cursor) >= bytes.length) {
        throw new ImageDecodeError(path, "truncated", `${i} of ${count} ASCII samples`);
      }
      samples[i] = _headerInt(bytes, cursor, path, "sample");
    }
  }
  const pixels = new Uint8Array(width * height * 3);
  for (let i = 0; i < count; i++) {
    if (samples[i] > maxval) {
      throw new ImageDecodeError(path, "corrupt", `sample ${samples[i]} above maxval ${maxval}`);
    }
    const v = maxval === 255 ? samples[i] : Math.round((samples[i] * 255) / maxval);
    if (src === 3) pixels[i] = v;
    else pixels[3 * i] = pixels[3 * i + 1] = pixels[3 * i + 2] = v;
  }
  return { width, height, channels: 3, sourceChannels: src, pixels };
}

/** Skips whitespace and `#` comments; returns the new position. */
function _skipSpace(bytes: Uint8Array, cursor: { at: number }): number {
  while (cursor.at < bytes.length) {
    const c = bytes[cursor.at];
    if (c === 0x23) {
      while (cursor.at < bytes.length && bytes[cursor.at] !== 0x0a) cursor.at++;
    } else if (c === 0x20 || (c >= 0x09 && c <= 0x0d)) cursor.at++;
    else break;
  }
  return cursor.at;
}

function _headerInt(
  bytes: Uint8Array,
  cursor: { at: number },
  path: string,
  what: string,
): number {
  _skipSpace(bytes, cursor);
  if (cursor.at >= bytes.length) throw new ImageDecodeError(path, "truncated", `no ${what}`);
  let value = 0, digits = 0;
  while (cursor.at < bytes.length && bytes[cursor.at] >= 0x30 && bytes[cursor.at] <= 0x39) {
    value = value * 10 + bytes[cursor.at++] - 0x30;
    digits++;
  }
  if (digits === 0 || value > 2 ** 31) {
    throw new ImageDecodeError(path, "corrupt", `bad ${what} near byte ${cursor.at}`);
  }
  return value;
}

// ---------------------------------------------------------------- PNG

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

interface _PngDecoded {
  width: number;
  height: number;
  pixels: Uint8Array; // RGBA
}

/** Checks the chunk structure (so truncation is reported as such), then decodes. */
function _decodePng(bytes: Uint8Array, path: string): DecodedImage {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = 8, sawEnd = false, sawData = false, colorType = -1;
  while (at + 8 <= bytes.length) {
    const length = view.getUint32(at);
    const type = String.fromCharCode(...bytes.subarray(at + 4, at + 8));
    if (at + 12 + length > bytes.length) {
      throw new ImageDecodeError(path, "truncated", `chunk ${type} runs past the end`);
    }
    if (at === 8) {
      if (type !== "IHDR" || length !== 13) {
        throw new ImageDecodeError(path, "corrupt", "PNG does not start with IHDR");
      }
      const depth = bytes[at + 16];
      colorType = bytes[at + 17];
      const interlace = bytes[at + 20];
      if (depth !== 8 || interlace !== 0 || ![0, 2, 3, 4, 6].includes(colorType)) {
        const what = `bit depth ${depth}, colour type ${colorType}, interlace ${interlace}`;
        throw new ImageDecodeError(path, "unsupported", `${what}; need 8-bit non-interlaced`);
      }
    }
    if (type === "IDAT") sawData = true;
    at += 12 + length;
    if (type === "IEND") {
      sawEnd = true;
      break;
    }
  }
  if (!sawEnd) throw new ImageDecodeError(path, "truncated", "no IEND chunk");
  if (!sawData) throw new ImageDecodeError(path, "corrupt", "no IDAT chunk");
  let decoded: _PngDecoded;
  try {
    decoded = (pngCodec as { decode(b: Uint8Array): _PngDecoded }).decode(bytes);
  } catch (err) {
    throw new ImageDecodeError(path, "corrupt", (err as Error).message);
  }
  const { width, height } = decoded;
  const n = width * height;
  if (decoded.pixels.length !== 4 * n) {
    throw new ImageDecodeError(path, "corrupt", "pixel data does not match the size");
  }
  const pixels = new Uint8Array(3 * n);
  for (let i = 0; i < n; i++) {
    // Alpha is composited over black.
    const a = decoded.pixels[4 * i + 3];
    for (let c = 0; c < 3; c++) {
      const v = decoded.pixels[4 * i + c];
      pixels[3 * i + c] = a === 255 ? v : Math.round((v * a) / 255);
    }
  }
  const gray = colorType === 0 || colorType === 4;
  return { width, height, channels: 3, sourceChannels: gray ? 1 : 3, pixels };
}

// ---------------------------------------------------------------- JPEG

interface _JpegFrame {
  width: number;
  height: number;
  format: number; // 0 gray, 1 RGB, 2 CMYK
  buffer: Uint8Array;
}

interface _JpegInstance {
  decode(bytes: Uint8Array): _JpegFrame;
}

interface _JpegModule {
  init(): Promise<_JpegInstance>;
  "new"(): _JpegInstance;
}

const _codec = jpegCodec as unknown as _JpegModule;
let _jpeg: Promise<_JpegInstance> | undefined;

async function _decodeJpeg(bytes: Uint8Array, path: string): Promise<DecodedImage> {
  _jpeg ??= _codec.init();
  let instance: _JpegInstance;
  try {
    instance = await _jpeg;
  } catch (err) {
    _jpeg = undefined; // e.g. no read permission for the codec's .wasm file; retry next time
    throw err;
  }
  let frame: _JpegFrame;
  try {
    frame = instance.decode(bytes);
  } catch (err) {
    // A trap can leave the WebAssembly heap inconsistent: start a fresh instance.
    _jpeg = Promise.resolve(_codec["new"]());
    const ended = _hasJpegEnd(bytes);
    const detail = `${(err as Error).message}${ended ? "" : "; no end-of-image marker"}`;
    throw new ImageDecodeError(path, ended ? "corrupt" : "truncated", detail);
  }
  const { width, height, format, buffer } = frame;
  const n = width * height;
  const pixels = new Uint8Array(3 * n);
  if (format === 0 && buffer.length >= n) {
    for (let i = 0; i < n; i++) pixels[3 * i] = pixels[3 * i + 1] = pixels[3 * i + 2] = buffer[i];
    return { width, height, channels: 3, sourceChannels: 1, pixels };
  }
  if (format === 1 && buffer.length >= 3 * n) {
    pixels.set(buffer.subarray(0, 3 * n));
    return { width, height, channels: 3, sourceChannels: 3, pixels };
  }
  if (format === 2 && buffer.length >= 4 * n) {
    for (let i = 0; i < n; i++) {
      const k = buffer[4 * i + 3];
      for (let c = 0; c < 3; c++) pixels[3 * i + c] = Math.round((k * buffer[4 * i + c]) / 255);
    }
    return { width, height, channels: 3, sourceChannels: 3, pixels };
  }
  throw new ImageDecodeError(path, "unsupported", `JPEG pixel format ${format}`);
}

/** True when an end-of-image marker (FF D9) sits near the end of the data. */
function _hasJpegEnd(bytes: Uint8Array): boolean {
  for (let i = bytes.length - 2; i >= Math.max(0, bytes.length - 64); i--) {
    if (bytes[i] === 0xff && bytes[i + 1] === 0xd9) return true;
  }
  return false;
}
