/**
 * A Conv-4 ProtoNet ready for a run: the training network (bound to the
 * episode batch), checkpoint save/load with the run's facts, and views of it
 * as an evaluation embedder. Adapts `Conv4` to the training loop.
 */
import { Rng } from "../data/random.ts";
import type { Gpu } from "../kernels/device.ts";
import type { Tensor } from "../kernels/tensor.ts";
import {
  CheckpointError,
  type CheckpointInfo,
  loadCheckpoint,
  saveCheckpoint,
} from "./checkpoint.ts";
import { Conv4 } from "./conv4.ts";
import type { EvalModel } from "./real_eval.ts";
import type { LoopState, TrainableNet } from "./train_loop.ts";

/** Channels of every Conv-4 block. */
export const CONV4_WIDTH = 64;

/** Episode geometry and optimiser settings of a session. */
export interface SessionConfig {
  way: number;
  shot: number;
  query: number;
  imageSize: number;
  lr: number;
  seed: number;
}

/** Shape of a named Conv-4 parameter (`block{i}.conv.weight`, `block{i}.bn.bias`, ...). */
export function parameterShape(name: string, inChannels = 3): number[] {
  const m = name.match(/^block(\d+)\.(conv|bn)\.(\w+)$/);
  if (!m) throw new RangeError(`unknown Conv-4 parameter ${name}`);
  if (m[2] === "conv" && m[3] === "weight") {
    return [CONV4_WIDTH, m[1] === "0" ? inChannels : CONV4_WIDTH, 3, 3];
  }
  return [CONV4_WIDTH];
}

/** Wraps a Conv4 as an Embedder in eval mode (batch norm with running statistics). */
export function embedderOf(net: Conv4): EvalModel {
  return {
    kind: "embedder",
    embedder: {
      batch: net.batch,
      dim: net.embeddingDim,
      input: net.input,
      embed: (x: Tensor) => net.forward(x, "eval"),
    },
  };
}

/** The network being trained, with checkpointing. */
export class ProtoNetSession implements TrainableNet {
  readonly net: Conv4;

  private constructor(
    readonly gpu: Gpu,
    readonly config: SessionConfig,
    readonly inputMode: "rgb" | "gray",
    /** Facts recorded in every checkpoint (generator, sampler, data split...). */
    readonly facts: Record<string, unknown>,
  ) {
    const batch = config.way * (config.shot + config.query);
    this.net = new Conv4(gpu, new Rng(config.seed + 303), {
      batch,
      imageSize: config.imageSize,
      lr: config.lr,
    });
  }

  /** Builds a freshly initialised network. */
  static create(
    gpu: Gpu,
    config: SessionConfig,
    inputMode: "rgb" | "gray",
    facts: Record<string, unknown> = {},
  ): ProtoNetSession {
    if (config.imageSize % 16 !== 0) {
      throw new RangeError(`--image-size ${config.imageSize} must be a multiple of 16 for Conv-4`);
    }
    return new ProtoNetSession(gpu, config, inputMode, facts);
  }

  get trainInput(): Tensor {
    return this.net.input;
  }

  async trainStep(): Promise<{ loss: number; accuracy: number }> {
    const { way, shot, query } = this.config;
    const r = await this.net.trainStep(this.net.input, way, shot, query);
    return { loss: r.loss, accuracy: r.acc };
  }

  /** The trained network as an evaluation model. */
  evalModel(): EvalModel {
    return embedderOf(this.net);
  }

  /** A randomly initialised Conv-4 of the same shape (baseline). */
  randomInitModel(seed: number): EvalModel {
    const net = new Conv4(this.gpu, new Rng(seed), {
      batch: this.net.batch,
      imageSize: this.config.imageSize,
    });
    return embedderOf(net);
  }

  /** Writes a checkpoint atomically; `optimizer` adds Adam's state for `--resume`. */
  async save(path: string, state: LoopState, opts: { optimizer: boolean }): Promise<void> {
    const params = await this.net.getParameters();
    const tensors = new Map<string, { shape: number[]; data: Float32Array }>();
    for (const [name, data] of params) {
      const base = name.replace(/\.(running_mean|running_var)$/, ".bias");
      tensors.set(name, { shape: parameterShape(base), data });
    }
    const adam = this.net.optimizer as unknown as {
      getState?: () => Promise<Map<string, Float32Array>>;
      stepCount: number;
    };
    if (opts.optimizer && adam.getState) {
      for (const [name, data] of await adam.getState()) {
        tensors.set(name, { shape: [data.length], data });
      }
    }
    const info: CheckpointInfo = {
      format: "protonet-conv4",
      inputMode: this.inputMode,
      imageSize: this.config.imageSize,
      width: CONV4_WIDTH,
      episode: { way: this.config.way, shot: this.config.shot, query: this.config.query },
      lr: this.config.lr,
      adamStep: adam.stepCount,
      loop: state,
      ...this.facts,
    };
    await saveCheckpoint(path, tensors, info);
  }

  /** Loads parameters (and running statistics) from a checkpoint of the same shape. */
  async load(path: string): Promise<CheckpointInfo> {
    const ckpt = await loadCheckpoint(path);
    if (ckpt.info.imageSize !== this.config.imageSize) {
      throw new CheckpointError(
        `${path}: trained at ${ckpt.info.imageSize} px, this run uses --image-size ` +
          `${this.config.imageSize}`,
      );
    }
    const params = new Map<string, Float32Array>();
    for (const name of this.net.parameterNames) {
      const t = ckpt.tensors.get(name);
      if (!t) throw new CheckpointError(`${path}: tensor ${name} is missing`);
      params.set(name, t.data);
    }
    this.net.setParameters(params);
    return ckpt.info;
  }

  /** Loads a `last.safetensors` and returns the loop state to continue from. */
  async resume(path: string): Promise<LoopState> {
    const info = await this.load(path);
    const ckpt = await loadCheckpoint(path);
    const adam = this.net.optimizer as unknown as {
      setState?: (m: Map<string, Float32Array>, step: number) => void;
    };
    if (adam.setState) {
      const moments = new Map(
        [...ckpt.tensors].filter(([n]) => n.startsWith("adam.")).map(([n, t]) => [n, t.data]),
      );
      if (moments.size === 0) {
        throw new CheckpointError(
          `${path}: holds no optimizer state; resume from last.safetensors`,
        );
      }
      adam.setState(moments, Number(info.adamStep ?? 0));
    }
    const loop = info.loop as LoopState | undefined;
    if (!loop || typeof loop.episode !== "number") {
      throw new CheckpointError(`${path}: no training-loop state to resume from`);
    }
    return loop;
  }
}
