/**
 * Compute kernels: a WGSL source with a `Params` uniform struct, compiled
 * once per set of `override` constants, and bound once per set of tensors.
 *
 * Binding convention for every kernel in this folder:
 *   @group(0) @binding(0) var<uniform> p: Params;   (when the kernel has params)
 *   @group(0) @binding(1..n) storage buffers, in the order the op passes them.
 *
 * A `Dispatch` holds its bind group and uniform buffer, so a training step
 * that re-records the same dispatches allocates nothing.
 */
import type { Gpu } from "./device.ts";
import type { Tensor } from "./tensor.ts";

/** Scalar types allowed in a `Params` struct (4 bytes each, no padding). */
export type ParamType = "u32" | "i32" | "f32";

/** The fields of a kernel's `Params` struct, in declaration order. */
export type ParamLayout = readonly (readonly [name: string, type: ParamType])[];

/** Values for a kernel's params, by field name. */
export type ParamValues = Record<string, number>;

/** Parses `struct Params { a: u32, b: f32 }` from WGSL (the layout's other source). */
export function parseParamsStruct(source: string): ParamLayout {
  const m = source.match(/struct\s+Params\s*\{([^}]*)\}/);
  if (!m) return [];
  return m[1].split(/[,;\n]/).map((s) => s.replace(/\/\/.*$/, "").trim()).filter((s) => s)
    .map((field) => {
      const [name, type] = field.split(":").map((s) => s.trim());
      return [name, type as ParamType] as const;
    });
}

/** Writes params in layout order into a byte array padded to 16 bytes. */
export function packParams(layout: ParamLayout, values: ParamValues, kernel: string): ArrayBuffer {
  const bytes = new ArrayBuffer(Math.max(16, Math.ceil(layout.length / 4) * 16));
  const view = new DataView(bytes);
  layout.forEach(([name, type], i) => {
    const v = values[name];
    if (v === undefined || !Number.isFinite(v)) {
      throw new RangeError(`kernel ${kernel}: param ${name} is ${v}`);
    }
    if (type === "f32") view.setFloat32(i * 4, v, true);
    else if (type === "i32") view.setInt32(i * 4, v, true);
    else {
      if (v < 0 || !Number.isInteger(v)) {
        throw new RangeError(`kernel ${kernel}: u32 param ${name} = ${v}`);
      }
      view.setUint32(i * 4, v, true);
    }
  });
  return bytes;
}

/** A recorded kernel launch with its resources bound. */
export interface Dispatch {
  readonly kernel: Kernel;
  readonly pipeline: GPUComputePipeline;
  readonly bindGroup: GPUBindGroup;
  readonly workgroups: readonly [number, number, number];
  /** Present when the kernel has params; `setParams` rewrites it in place. */
  readonly uniform?: GPUBuffer;
}

/** One WGSL entry point with its params layout, compiled lazily and cached. */
export class Kernel {
  readonly layout: ParamLayout;
  #pipelines = new Map<string, GPUComputePipeline>();

  /**
   * @param label names the kernel in errors and GPU debug labels
   * @param source WGSL text, usually imported from `<op>.wgsl`
   * @param entryPoint the `@compute` function to run
   */
  constructor(readonly label: string, readonly source: string, readonly entryPoint = "main") {
    this.layout = parseParamsStruct(source);
    for (const [name, type] of this.layout) {
      if (type !== "u32" && type !== "i32" && type !== "f32") {
        throw new TypeError(`kernel ${label}: Params.${name} has type ${type}; use u32/i32/f32`);
      }
    }
  }

  /** The compute pipeline for these override constants (compiled on first use). */
  pipeline(gpu: Gpu, overrides: Record<string, number> = {}): GPUComputePipeline {
    const key = JSON.stringify(overrides);
    let pipe = this.#pipelines.get(key);
    if (pipe) return pipe;
    const device = gpu.device;
    device.pushErrorScope("validation");
    const module = device.createShaderModule({ label: this.label, code: this.source });
    pipe = device.createComputePipeline({
      label: `${this.label}${key === "{}" ? "" : key}`,
      layout: "auto",
      compute: { module, entryPoint: this.entryPoint, constants: overrides },
    });
    // Errors surface asynchronously; report them with the kernel's name.
    device.popErrorScope().then((err) => {
      if (err) console.error(`kernel ${this.label}: ${err.message}`);
    });
    this.#pipelines.set(key, pipe);
    return pipe;
  }

  /**
   * Binds tensors and params once. `tensors` fill bindings 1, 2, ... in order;
   * an `undefined` slot leaves that binding out (for entry points of a shared
   * source that do not use it: "auto" layouts hold only the bindings used).
   * `workgroups` is the dispatch grid; use `groups()` to compute it.
   */
  bind(
    gpu: Gpu,
    tensors: readonly (Tensor | undefined)[],
    params: ParamValues,
    workgroups: readonly [number, number?, number?],
    overrides: Record<string, number> = {},
  ): Dispatch {
    const device = gpu.device;
    const pipe = this.pipeline(gpu, overrides);
    const entries: GPUBindGroupEntry[] = [];
    tensors.forEach((t, i) => {
      if (t) entries.push({ binding: i + 1, resource: { buffer: t.buffer } });
    });
    let uniform: GPUBuffer | undefined;
    if (this.layout.length > 0) {
      const data = packParams(this.layout, params, this.label);
      uniform = device.createBuffer({
        label: `${this.label}:params`,
        size: data.byteLength,
        usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
      });
      device.queue.writeBuffer(uniform, 0, data);
      entries.unshift({ binding: 0, resource: { buffer: uniform } });
    }
    const limit = gpu.limits.maxComputeWorkgroupsPerDimension;
    const grid: [number, number, number] = [workgroups[0], workgroups[1] ?? 1, workgroups[2] ?? 1];
    for (const g of grid) {
      if (!Number.isInteger(g) || g < 1 || g > limit) {
        throw new RangeError(`kernel ${this.label}: workgroup grid [${grid}] outside 1..${limit}`);
      }
    }
    device.pushErrorScope("validation");
    const bindGroup = device.createBindGroup({
      label: this.label,
      layout: pipe.getBindGroupLayout(0),
      entries,
    });
    device.popErrorScope().then((err) => {
      if (err) console.error(`kernel ${this.label}: bind group: ${err.message}`);
    });
    return { kernel: this, pipeline: pipe, bindGroup, workgroups: grid, uniform };
  }

  /** Rewrites the params of an existing dispatch (e.g. Adam's step count). */
  setParams(gpu: Gpu, dispatch: Dispatch, params: ParamValues): void {
    if (!dispatch.uniform) throw new Error(`kernel ${this.label} has no params`);
    gpu.device.queue.writeBuffer(dispatch.uniform, 0, packParams(this.layout, params, this.label));
  }
}

/** Number of workgroups of `size` needed to cover `n` items. */
export function groups(n: number, size: number): number {
  return Math.max(1, Math.ceil(n / size));
}

/** Records dispatches into one compute pass and submits them. */
export function submit(gpu: Gpu, dispatches: readonly Dispatch[], label = "step"): void {
  const enc = gpu.device.createCommandEncoder({ label });
  encode(enc, dispatches, label);
  gpu.device.queue.submit([enc.finish()]);
}

/** Records dispatches into one compute pass of an existing encoder. */
export function encode(
  enc: GPUCommandEncoder,
  dispatches: readonly Dispatch[],
  label = "pass",
): void {
  const pass = enc.beginComputePass({ label });
  for (const d of dispatches) {
    pass.setPipeline(d.pipeline);
    pass.setBindGroup(0, d.bindGroup);
    pass.dispatchWorkgroups(...d.workgroups);
  }
  pass.end();
}
