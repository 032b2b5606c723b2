/**
 * WebGPU adapter and device acquisition. The only place that asks the
 * browser-style `navigator.gpu` for hardware.
 */

/** A device plus what we learned about the adapter that made it. */
export interface Gpu {
  device: GPUDevice;
  /** Human-readable adapter description, e.g. "llvmpipe (LLVM 15.0.6, 256 bits)". */
  description: string;
  /** True for software adapters such as Mesa's llvmpipe. */
  isFallback: boolean;
  limits: GPUSupportedLimits;
}

/** Raised when no WebGPU adapter or device can be had. */
export class NoGpuError extends Error {
  override name = "NoGpuError";
}

let cached: Promise<Gpu> | undefined;

/**
 * Returns the process-wide GPU, acquiring it on first use. Kernels, tensors
 * and models all share one device so buffers can flow between them.
 */
export function acquireGpu(): Promise<Gpu> {
  cached ??= requestGpu();
  return cached;
}

async function requestGpu(): Promise<Gpu> {
  if (typeof navigator === "undefined" || !("gpu" in navigator)) {
    throw new NoGpuError("WebGPU is not available in this runtime (navigator.gpu is missing)");
  }
  const adapter = await navigator.gpu.requestAdapter({ powerPreference: "high-performance" });
  if (!adapter) {
    throw new NoGpuError(
      "no WebGPU adapter found: install a Vulkan/Metal/DX12 driver, or Mesa's llvmpipe for a " +
        "software fallback",
    );
  }
  const want = adapter.limits;
  const device = await adapter.requestDevice({
    label: "facegen-device",
    requiredLimits: {
      maxStorageBufferBindingSize: want.maxStorageBufferBindingSize,
      maxBufferSize: want.maxBufferSize,
      maxStorageBuffersPerShaderStage: want.maxStorageBuffersPerShaderStage,
      maxComputeWorkgroupStorageSize: want.maxComputeWorkgroupStorageSize,
      maxComputeInvocationsPerWorkgroup: want.maxComputeInvocationsPerWorkgroup,
      maxComputeWorkgroupSizeX: want.maxComputeWorkgroupSizeX,
      maxComputeWorkgroupSizeY: want.maxComputeWorkgroupSizeY,
      maxComputeWorkgroupsPerDimension: want.maxComputeWorkgroupsPerDimension,
    },
  });
  device.lost.then((info) => {
    if (info.reason !== "destroyed") {
      console.error(`WebGPU device lost: ${info.message}`);
    }
  });
  const info = adapter.info;
  const description = info.description || [info.vendor, info.architecture, info.device]
    .filter((s) => s).join(" ") ||
    "unknown adapter";
  return {
    device,
    description,
    isFallback: (info as GPUAdapterInfo & { isFallbackAdapter?: boolean }).isFallbackAdapter ??
      false,
    limits: device.limits,
  };
}

/** True when a WebGPU adapter exists; tests use it to skip with a message. */
export async function hasGpu(): Promise<boolean> {
  try {
    await acquireGpu();
    return true;
  } catch {
    cached = undefined;
    return false;
  }
}
