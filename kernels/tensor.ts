/**
 * GPU tensors: a storage buffer plus a row-major float32 shape (NCHW for
 * images). Every numeric array of the product lives in one of these between
 * the ends of the pipeline.
 */
import type { Gpu } from "./device.ts";

/** Number of elements of a shape. */
export function numel(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Formats a shape as `[2, 3, 64, 64]` for error messages. */
export function shapeText(shape: readonly number[]): string {
  return `[${shape.join(", ")}]`;
}

const USAGE = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;

/** Bytes currently held by live tensors, and the peak since start. */
export const gpuMemory = { liveBytes: 0, peakBytes: 0 };

/** A float32 array on the GPU with a fixed shape. */
export class Tensor {
  readonly buffer: GPUBuffer;
  readonly size: number;
  readonly bytes: number;
  #destroyed = false;
  #staging?: GPUBuffer;
  #stagingBusy = false;

  private constructor(
    readonly gpu: Gpu,
    readonly shape: readonly number[],
    readonly label: string,
  ) {
    this.size = numel(shape);
    if (!Number.isInteger(this.size) || this.size < 0) {
      throw new RangeError(`tensor ${label}: bad shape ${shapeText(shape)}`);
    }
    // WebGPU rejects zero-sized bindings, so keep at least one element.
    this.bytes = Math.max(4, this.size * 4);
    this.buffer = gpu.device.createBuffer({ label, size: this.bytes, usage: USAGE });
    gpuMemory.liveBytes += this.bytes;
    gpuMemory.peakBytes = Math.max(gpuMemory.peakBytes, gpuMemory.liveBytes);
  }

  /** Allocates a zero-filled tensor. */
  static zeros(gpu: Gpu, shape: readonly number[], label: string): Tensor {
    return new Tensor(gpu, [...shape], label);
  }

  /** Allocates a tensor and uploads `data` (length must match the shape). */
  static from(
    gpu: Gpu,
    data: Float32Array | Uint32Array,
    shape: readonly number[],
    label: string,
  ): Tensor {
    const t = new Tensor(gpu, [...shape], label);
    t.write(data);
    return t;
  }

  /** Uploads 4-byte elements (u32/i32 for index tensors) starting at `offsetElements`. */
  write(data: Float32Array | Uint32Array | Int32Array, offsetElements = 0): void {
    if (offsetElements + data.length > this.size) {
      throw new RangeError(
        `tensor ${this.label} ${shapeText(this.shape)}: write of ${data.length} values at ` +
          `${offsetElements} overruns ${this.size}`,
      );
    }
    this.gpu.device.queue.writeBuffer(
      this.buffer,
      offsetElements * 4,
      data.buffer as ArrayBuffer,
      data.byteOffset,
      data.byteLength,
    );
  }

  /**
   * Copies the tensor back to the CPU (waits for queued work). The staging
   * buffer is created on the first read and reused, so reading a tensor every
   * step allocates nothing on the GPU; an overlapping read gets a temporary one.
   */
  async read(): Promise<Float32Array> {
    const device = this.gpu.device;
    const reuse = !this.#stagingBusy;
    const staging = reuse && this.#staging ? this.#staging : device.createBuffer({
      label: `${this.label}:readback`,
      size: this.bytes,
      usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
    });
    if (reuse) {
      this.#staging = staging;
      this.#stagingBusy = true;
    }
    try {
      const enc = device.createCommandEncoder({ label: `${this.label}:readback` });
      enc.copyBufferToBuffer(this.buffer, 0, staging, 0, this.bytes);
      device.queue.submit([enc.finish()]);
      await staging.mapAsync(GPUMapMode.READ);
      const out = new Float32Array(staging.getMappedRange().slice(0, this.size * 4));
      staging.unmap();
      return out;
    } finally {
      if (reuse) this.#stagingBusy = false;
      else staging.destroy();
    }
  }

  /** Throws unless the shape equals `expected` (`-1` matches any size). */
  expectShape(expected: readonly number[], what: string): void {
    const ok = expected.length === this.shape.length &&
      expected.every((d, i) => d === -1 || d === this.shape[i]);
    if (!ok) {
      throw new RangeError(
        `${what}: tensor ${this.label} has shape ${shapeText(this.shape)}, ` +
          `expected ${shapeText(expected)}`,
      );
    }
  }

  /** Frees the GPU buffer; further use is an error. */
  destroy(): void {
    if (this.#destroyed) return;
    this.#destroyed = true;
    gpuMemory.liveBytes -= this.bytes;
    this.buffer.destroy();
    this.#staging?.destroy();
  }
}
