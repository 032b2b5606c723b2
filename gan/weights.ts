/**
 * StyleGAN2 generator weight files: configuration (from metadata or inferred from shapes),
 * the list of expected tensors with their shapes, and validation with errors that name the
 * file and the tensor. Format and maths: `shared/spec/stylegan2-weights.md`.
 */
import {
  type NamedTensor,
  readSafeTensors,
  type SafeTensors,
  WeightFileError,
} from "../data/safetensors.ts";
import { shapeText } from "../kernels/tensor.ts";

/** Sizes and options of a StyleGAN2 "skip" generator. */
export interface GeneratorConfig {
  /** Output size R (power of two, >= 4). */
  resolution: number;
  zDim: number;
  wDim: number;
  /** Width C_r of block r, for r = 4, 8, ..., R. */
  channels: Readonly<Record<number, number>>;
  /** Number of mapping layers. */
  nMapping: number;
  /** Number of style inputs, 2 log2(R) - 2. */
  numWs: number;
  /** Mapping learning-rate multiplier (scales weights and biases at run time). */
  lrMul: number;
  /** Activation clamp, or null for none. */
  convClamp: number | null;
  /** Image channels (3 for RGB). */
  imgChannels: number;
}

/** One float32 weight tensor. */
export interface WeightTensor {
  shape: readonly number[];
  data: Float32Array;
}

/** A validated generator file. */
export interface GeneratorWeights {
  path: string;
  config: GeneratorConfig;
  /** Every expected tensor by its state_dict name (extra tensors in the file are dropped). */
  tensors: ReadonlyMap<string, WeightTensor>;
}

/** Block resolutions 4, 8, ..., R. */
export function blockResolutions(config: GeneratorConfig): number[] {
  const out: number[] = [];
  for (let r = 4; r <= config.resolution; r *= 2) out.push(r);
  return out;
}

/** Names and shapes of every tensor a generator with this config must hold. */
export function expectedTensors(c: GeneratorConfig): Map<string, number[]> {
  const m = new Map<string, number[]>();
  for (let i = 0; i < c.nMapping; i++) {
    m.set(`mapping.fc${i}.weight`, [c.wDim, i === 0 ? c.zDim : c.wDim]);
    m.set(`mapping.fc${i}.bias`, [c.wDim]);
  }
  m.set("mapping.w_avg", [c.wDim]);
  const layer = (name: string, cin: number, cout: number, r: number, k: number) => {
    m.set(`${name}.weight`, [cout, cin, k, k]);
    m.set(`${name}.bias`, [cout]);
    m.set(`${name}.affine.weight`, [cin, c.wDim]);
    m.set(`${name}.affine.bias`, [cin]);
    if (k === 3) {
      m.set(`${name}.noise_strength`, []);
      m.set(`${name}.noise_const`, [r, r]);
      m.set(`${name}.resample_filter`, [4, 4]);
    }
  };
  for (const r of blockResolutions(c)) {
    const b = `synthesis.b${r}`;
    const cr = c.channels[r];
    if (r === 4) m.set(`${b}.const`, [cr, 4, 4]);
    else layer(`${b}.conv0`, c.channels[r / 2], cr, r, 3);
    m.set(`${b}.resample_filter`, [4, 4]);
    layer(`${b}.conv1`, cr, cr, r, 3);
    layer(`${b}.torgb`, cr, c.imgChannels, r, 1);
  }
  return m;
}

/** Reads, configures and validates a generator file. */
export async function loadGenerator(path: string): Promise<GeneratorWeights> {
  return generatorFromSafeTensors(await readSafeTensors(path));
}

/** Configures and validates an already parsed generator file. */
export function generatorFromSafeTensors(file: SafeTensors): GeneratorWeights {
  const fail = (what: string): never => {
    throw new WeightFileError(`${file.path}: ${what}`);
  };
  const config = _resolveConfig(file, fail);
  const tensors = new Map<string, WeightTensor>();
  for (const [name, shape] of expectedTensors(config)) {
    const t = file.tensors.get(name);
    if (!t) return fail(`missing tensor ${name} (expected shape ${shapeText(shape)})`);
    if (t.dtype !== "F32") fail(`tensor ${name} has dtype ${t.dtype}, expected F32`);
    if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
      fail(`tensor ${name} has shape ${shapeText(t.shape)}, expected ${shapeText(shape)}`);
    }
    const data = t.data as Float32Array;
    const bad = data.findIndex((v) => !Number.isFinite(v));
    if (bad >= 0) fail(`tensor ${name} holds ${data[bad]} at element ${bad}`);
    tensors.set(name, { shape, data });
  }
  return { path: file.path, config, tensors };
}

type Fail = (what: string) => never;

/** Merges the `config` JSON, the individual metadata keys and shape inference, then checks. */
function _resolveConfig(file: SafeTensors, fail: Fail): GeneratorConfig {
  const meta = file.metadata ?? {};
  let json: Record<string, unknown> = {};
  if (meta.config !== undefined) {
    try {
      json = JSON.parse(meta.config);
    } catch (e) {
      fail(`metadata config is not valid JSON (${(e as Error).message})`);
    }
  }
  const pick = (key: string): unknown => {
    if (key in json) return json[key];
    if (meta[key] === undefined) return undefined;
    try {
      return JSON.parse(meta[key]);
    } catch {
      return meta[key];
    }
  };
  const shapeOf = (name: string, what: string): number[] => {
    const t: NamedTensor | undefined = file.tensors.get(name);
    return t ? t.shape : fail(`no ${what} in the metadata and tensor ${name} is missing`);
  };
  const int = (key: string, infer: () => number): number => {
    const v = pick(key);
    if (v === undefined || v === null) return infer();
    if (typeof v !== "number" || !Number.isInteger(v) || v <= 0) {
      return fail(`metadata ${key} is ${JSON.stringify(v)}, expected a positive integer`);
    }
    return v;
  };
  for (const [key, want] of [["architecture", "skip"], ["c_dim", 0]] as const) {
    const v = pick(key);
    if (v !== undefined && v !== want) {
      fail(`metadata ${key} is ${JSON.stringify(v)}; only ${JSON.stringify(want)} is supported`);
    }
  }
  const resolution = int("resolution", () => {
    let r = 4;
    while (file.tensors.has(`synthesis.b${r * 2}.torgb.weight`)) r *= 2;
    shapeOf(`synthesis.b${r}.torgb.weight`, "resolution");
    return r;
  });
  if (resolution < 4 || (resolution & (resolution - 1)) !== 0) {
    fail(`resolution is ${resolution}, expected a power of two >= 4`);
  }
  const zDim = int("z_dim", () => shapeOf("mapping.fc0.weight", "z_dim")[1]);
  const wDim = int("w_dim", () => shapeOf("mapping.fc0.weight", "w_dim")[0]);
  const nMapping = int("n_mapping", () => {
    let n = 0;
    while (file.tensors.has(`mapping.fc${n}.weight`)) n++;
    return n > 0
      ? n
      : fail("no n_mapping in the metadata and tensor mapping.fc0.weight is missing");
  });
  const imgChannels = int(
    "img_channels",
    () => shapeOf("synthesis.b4.torgb.weight", "img_channels")[0],
  );
  const numWs = int("num_ws", () => 2 * Math.log2(resolution) - 2);
  if (numWs !== 2 * Math.log2(resolution) - 2) {
    fail(
      `num_ws is ${numWs}, expected ${2 * Math.log2(resolution) - 2} for resolution ${resolution}`,
    );
  }
  const rawChannels = pick("channels");
  const channels: Record<number, number> = {};
  for (let r = 4; r <= resolution; r *= 2) {
    const v = rawChannels && typeof rawChannels === "object"
      ? (rawChannels as Record<string, unknown>)[String(r)]
      : shapeOf(`synthesis.b${r}.conv1.weight`, `channels for block ${r}`)[0];
    if (typeof v !== "number" || !Number.isInteger(v) || v <= 0) {
      fail(`channels for block ${r} is ${JSON.stringify(v)}, expected a positive integer`);
    }
    channels[r] = v as number;
  }
  const lr = pick("lr_mul");
  const lrMul = lr === undefined || lr === null ? 0.01 : lr;
  if (typeof lrMul !== "number" || !(lrMul > 0)) fail(`metadata lr_mul is ${JSON.stringify(lr)}`);
  const clamp = pick("conv_clamp");
  if (clamp !== undefined && clamp !== null && !(typeof clamp === "number" && clamp > 0)) {
    fail(`metadata conv_clamp is ${JSON.stringify(clamp)}, expected null or a positive number`);
  }
  return {
    resolution,
    zDim,
    wDim,
    channels,
    nMapping,
    numWs,
    lrMul: lrMul as number,
    convClamp: (clamp ?? null) as number | null,
    imgChannels,
  };
}
