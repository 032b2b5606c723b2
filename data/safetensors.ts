/**
 * safetensors reading and atomic writing: 8-byte little-endian header length,
 * a JSON header, then raw little-endian tensor data. Used for generator
 * weights, golden tensors and ProtoNet checkpoints.
 */

/** One tensor as read from a file. I32 tensors are returned as Int32Array. */
export interface NamedTensor {
  dtype: "F32" | "I32";
  shape: number[];
  data: Float32Array | Int32Array;
}

/** A parsed safetensors file. */
export interface SafeTensors {
  path: string;
  tensors: Map<string, NamedTensor>;
  metadata: Record<string, string>;
}

/** Error naming the file and what is wrong with it. */
export class WeightFileError extends Error {
  override name = "WeightFileError";
}

/** Parses safetensors bytes; `path` only names the source in errors. */
export function parseSafeTensors(bytes: Uint8Array, path: string): SafeTensors {
  const fail = (what: string): never => {
    throw new WeightFileError(`${path}: ${what}`);
  };
  if (bytes.length < 8) fail(`file is ${bytes.length} bytes, too short for a safetensors header`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLen = Number(view.getBigUint64(0, true));
  if (headerLen > bytes.length - 8) {
    fail(`header claims ${headerLen} bytes but the file has ${bytes.length - 8} after it`);
  }
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + headerLen)));
  } catch (e) {
    return fail(`header is not valid JSON (${(e as Error).message}); not a safetensors file?`);
  }
  const dataStart = 8 + headerLen;
  const dataLen = bytes.length - dataStart;
  const tensors = new Map<string, NamedTensor>();
  let metadata: Record<string, string> = {};
  for (const [name, entry] of Object.entries(header)) {
    if (name === "__metadata__") {
      metadata = entry as Record<string, string>;
      continue;
    }
    const { dtype, shape, data_offsets: offs } = entry as {
      dtype: string;
      shape: number[];
      data_offsets: [number, number];
    };
    if (dtype !== "F32" && dtype !== "I32") {
      fail(`tensor ${name} has dtype ${dtype}; only F32 and I32 are supported`);
    }
    const count = shape.reduce((a, b) => a * b, 1);
    const [b, e] = offs;
    if (e - b !== count * 4) fail(`tensor ${name}: ${e - b} bytes for shape [${shape}]`);
    if (e > dataLen) {
      fail(`tensor ${name} ends at byte ${e} but only ${dataLen} data bytes exist (truncated?)`);
    }
    const copy = bytes.slice(dataStart + b, dataStart + e);
    const data = dtype === "F32"
      ? new Float32Array(copy.buffer, 0, count)
      : new Int32Array(copy.buffer, 0, count);
    tensors.set(name, { dtype: dtype as "F32" | "I32", shape, data });
  }
  return { path, tensors, metadata };
}

/** Reads and parses a safetensors file, with errors naming the path. */
export async function readSafeTensors(path: string): Promise<SafeTensors> {
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(path);
  } catch (e) {
    throw new WeightFileError(`${path}: cannot read (${(e as Error).message})`);
  }
  return parseSafeTensors(bytes, path);
}

/** Serialises tensors and string metadata to safetensors bytes. */
export function encodeSafeTensors(
  tensors: Map<string, { shape: number[]; data: Float32Array | Int32Array }>,
  metadata: Record<string, string> = {},
): Uint8Array {
  const header: Record<string, unknown> = { __metadata__: metadata };
  let offset = 0;
  for (const [name, t] of tensors) {
    const dtype = t.data instanceof Int32Array ? "I32" : "F32";
    header[name] = { dtype, shape: t.shape, data_offsets: [offset, offset + t.data.byteLength] };
    offset += t.data.byteLength;
  }
  let json = JSON.stringify(header);
  json += " ".repeat((8 - (json.length % 8)) % 8);
  const headerBytes = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + headerBytes.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerBytes.length), true);
  out.set(headerBytes, 8);
  let at = 8 + headerBytes.length;
  for (const t of tensors.values()) {
    out.set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength), at);
    at += t.data.byteLength;
  }
  return out;
}

/** Writes a file atomically: a temporary sibling, then a rename. */
export async function writeFileAtomic(path: string, bytes: Uint8Array | string): Promise<void> {
  const tmp = `${path}.tmp-${Deno.pid}`;
  if (typeof bytes === "string") await Deno.writeTextFile(tmp, bytes);
  else await Deno.writeFile(tmp, bytes);
  await Deno.rename(tmp, path);
}
