/**
 * ProtoNet checkpoints: safetensors holding the network's parameters and
 * batch-norm running statistics (and, in "last" checkpoints, Adam's moments),
 * with the training configuration and loop state as JSON metadata.
 */
import {
  encodeSafeTensors,
  readSafeTensors,
  WeightFileError,
  writeFileAtomic,
} from "../data/safetensors.ts";

/** What a checkpoint says about how it was trained. */
export interface CheckpointInfo {
  format: "protonet-conv4";
  /** Input colour mode the network was trained for. */
  inputMode: "rgb" | "gray";
  /** Input side length in pixels. */
  imageSize: number;
  /** Any further JSON-serialisable facts (config, loop state, metrics). */
  [key: string]: unknown;
}

/** A loaded checkpoint. */
export interface Checkpoint {
  path: string;
  info: CheckpointInfo;
  tensors: Map<string, { shape: number[]; data: Float32Array }>;
}

/** Bad or incompatible checkpoint file (names the file). */
export class CheckpointError extends Error {
  override name = "CheckpointError";
}

/** Writes a checkpoint atomically (temporary file, then rename). */
export async function saveCheckpoint(
  path: string,
  tensors: Map<string, { shape: number[]; data: Float32Array }>,
  info: CheckpointInfo,
): Promise<void> {
  const bytes = encodeSafeTensors(tensors, { checkpoint: JSON.stringify(info) });
  await writeFileAtomic(path, bytes);
}

/** Reads a checkpoint, checking its format and that every value is finite. */
export async function loadCheckpoint(path: string): Promise<Checkpoint> {
  let file;
  try {
    file = await readSafeTensors(path);
  } catch (e) {
    if (e instanceof WeightFileError) throw new CheckpointError(e.message);
    throw e;
  }
  const raw = file.metadata.checkpoint;
  if (!raw) {
    throw new CheckpointError(`${path}: no "checkpoint" metadata; not a ProtoNet checkpoint`);
  }
  let info: CheckpointInfo;
  try {
    info = JSON.parse(raw);
  } catch {
    throw new CheckpointError(`${path}: checkpoint metadata is not valid JSON`);
  }
  if (info.format !== "protonet-conv4") {
    throw new CheckpointError(`${path}: format is ${info.format}, expected protonet-conv4`);
  }
  const tensors = new Map<string, { shape: number[]; data: Float32Array }>();
  for (const [name, t] of file.tensors) {
    if (!(t.data instanceof Float32Array)) continue;
    const bad = t.data.findIndex((v) => !Number.isFinite(v));
    if (bad >= 0) {
      throw new CheckpointError(`${path}: tensor ${name} holds ${t.data[bad]} at index ${bad}`);
    }
    tensors.set(name, { shape: t.shape, data: t.data });
  }
  return { path, info, tensors };
}
