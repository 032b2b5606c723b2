/**
 * The WebGPU layer: device acquisition, GPU tensors, kernel binding, and the
 * ops shared by the generator and the ProtoNet. Nothing here knows about
 * faces, GANs or episodes.
 *
 * @module
 */
export { acquireGpu, type Gpu, hasGpu, NoGpuError } from "./device.ts";
export { gpuMemory, numel, shapeText, Tensor } from "./tensor.ts";
export {
  type Dispatch,
  encode,
  groups,
  Kernel,
  type ParamLayout,
  type ParamValues,
  submit,
} from "./kernel.ts";
export { bindToInput, toInputReference } from "./to_input.ts";
export { bindProtoClassify, protoClassifyReference } from "./proto_classify.ts";
