/**
 * The Conv-4 embedding network of Prototypical Networks, built once on the GPU for a fixed
 * batch: 4 blocks of conv 3x3 (padding 1, bias) -> batch norm -> ReLU -> 2x2 max-pool, the
 * pooled map flattened to D = width * (S / 16)^2. Forward, loss, backward and Adam of a whole
 * training step are recorded into one compute pass; a step allocates nothing on the GPU.
 *
 * Shape legend: N classes, K support, Q query per class, B = N (K + Q) images, S image side,
 * C channels (3 in, `width` inside), D embedding size.
 */
import type { Gpu } from "../kernels/device.ts";
import { type Dispatch, encode } from "../kernels/kernel.ts";
import { Tensor } from "../kernels/tensor.ts";
import type { Rng } from "../data/random.ts";
import { type EpisodeShape, protoLoss, type ProtoLossOp } from "../kernels/proto_loss.ts";
import { Adam } from "./adam.ts";
import { Conv4Block } from "./conv4_block.ts";

/** Construction options of `Conv4`. */
export interface Conv4Options {
  /** Images per forward pass, B = N (K + Q) for training. */
  batch: number;
  /** Image side S (divisible by 16); default 64. */
  imageSize?: number;
  /** Input channels; default 3. */
  inChannels?: number;
  /** Channels of every block; default 64. */
  width?: number;
  /** Adam learning rate; default 1e-3. */
  lr?: number;
  /** Also compute dL/dinput in the backward pass (tests; training does not need it). */
  inputGrad?: boolean;
}

/** Loss and accuracy of one episode. */
export interface StepResult {
  loss: number;
  acc: number;
}

const BLOCKS = 4;

/** Conv-4 ProtoNet embedding network with its optimiser, bound to fixed shapes. */
export class Conv4 {
  readonly batch: number;
  readonly imageSize: number;
  readonly embeddingDim: number;
  /** Network input [B, C_in, S, S]; `forward`/`trainStep` copy other tensors into it. */
  readonly input: Tensor;
  /** Embeddings [B, D] of the last forward. */
  readonly embeddings: Tensor;
  /** dL/dembeddings [B, D] of the last backward. */
  readonly embeddingGrad: Tensor;
  /** dL/dinput [B, C_in, S, S] of the last backward (only with `inputGrad`). */
  readonly inputGrad?: Tensor;
  /** The four blocks, input first. */
  readonly blocks: readonly Conv4Block[];
  readonly optimizer: Adam;
  #losses = new Map<string, ProtoLossOp>();
  #readback: GPUBuffer;
  #forward: Record<"train" | "eval", Dispatch[]>;
  #backward: Dispatch[];

  /**
   * Allocates every buffer and binds every kernel. Parameters get PyTorch's default init drawn
   * from `rng` (kaiming-uniform conv weights, uniform conv bias, BN weight 1, bias 0).
   */
  constructor(readonly gpu: Gpu, rng: Rng, options: Conv4Options) {
    const { batch, imageSize = 64, inChannels = 3, width = 64, lr = 1e-3 } = options;
    if (!Number.isInteger(batch) || batch < 2) {
      throw new RangeError(`Conv4 batch is ${batch}, expected an integer >= 2`);
    }
    if (imageSize % 16 !== 0 || imageSize < 16) {
      throw new RangeError(`Conv4 imageSize is ${imageSize}, expected a multiple of 16`);
    }
    this.batch = batch;
    this.imageSize = imageSize;
    const side = imageSize / 2 ** BLOCKS;
    this.embeddingDim = width * side * side;
    this.input = Tensor.zeros(gpu, [batch, inChannels, imageSize, imageSize], "conv4.input");
    this.embeddings = Tensor.zeros(gpu, [batch, this.embeddingDim], "conv4.embeddings");
    this.embeddingGrad = Tensor.zeros(gpu, [batch, this.embeddingDim], "conv4.dembeddings");

    const blocks: Conv4Block[] = [];
    let x = this.input;
    for (let i = 0; i < BLOCKS; i++) {
      const out = i === BLOCKS - 1 ? this.embeddings : undefined;
      const block = new Conv4Block(gpu, rng, `block${i}`, x, width, out);
      blocks.push(block);
      x = block.output;
    }
    this.blocks = blocks;

    // Backward, last block first: each block's input gradient is the previous block's output
    // gradient; block 0 computes it only when asked.
    let dout = this.embeddingGrad;
    this.#backward = [];
    for (let i = BLOCKS - 1; i >= 0; i--) {
      this.#backward.push(...blocks[i].bindBackward(dout, i > 0 || !!options.inputGrad));
      dout = blocks[i].inputGrad ?? dout;
    }
    this.inputGrad = blocks[0].inputGrad;
    this.#forward = {
      train: blocks.flatMap((b) => b.forward.train),
      eval: blocks.flatMap((b) => b.forward.eval),
    };
    this.optimizer = new Adam(gpu, blocks.flatMap((b) => b.paramSlots()), { lr });
    this.#readback = gpu.device.createBuffer({
      label: "conv4.loss-readback",
      size: 8,
      usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
    });
  }

  /** Parameter and buffer names, golden/PyTorch style (`block0.conv.weight`, ...). */
  get parameterNames(): string[] {
    return this.blocks.flatMap((b) => [...b.namedTensors().keys()]);
  }

  /**
   * Embeds `x` [B, C_in, S, S]; returns the model's `embeddings` tensor [B, D], valid until the
   * next call. "train" uses (and updates the running statistics with) batch statistics, "eval"
   * uses the running statistics so each image's embedding is independent of the batch.
   */
  forward(x: Tensor, mode: "train" | "eval"): Tensor {
    const enc = this.#begin(x, "conv4.forward");
    encode(enc, this.#forward[mode], `conv4.forward.${mode}`);
    this.gpu.device.queue.submit([enc.finish()]);
    return this.embeddings;
  }

  /**
   * Forward (train mode), loss and backward for one episode without updating parameters;
   * gradients stay in the blocks' grad tensors. `x` holds support then query, class-major.
   */
  lossAndGradients(x: Tensor, nWay: number, kShot: number, nQuery: number): Promise<StepResult> {
    return this.#step(x, { nWay, kShot, nQuery }, false);
  }

  /** One training step: forward, loss, backward and an Adam update; reads back loss, acc. */
  trainStep(x: Tensor, nWay: number, kShot: number, nQuery: number): Promise<StepResult> {
    return this.#step(x, { nWay, kShot, nQuery }, true);
  }

  /** The bound loss for an episode shape (built on first use, then reused). */
  lossOp(episode: EpisodeShape): ProtoLossOp {
    const key = `${episode.nWay}x${episode.kShot}x${episode.nQuery}`;
    let op = this.#losses.get(key);
    if (!op) {
      op = protoLoss(this.gpu, this.embeddings, episode, this.embeddingGrad);
      this.#losses.set(key, op);
    }
    return op;
  }

  async #step(x: Tensor, episode: EpisodeShape, update: boolean): Promise<StepResult> {
    const loss = this.lossOp(episode);
    const enc = this.#begin(x, "conv4.step");
    const adam = update ? this.optimizer.nextStep() : [];
    encode(enc, [...this.#forward.train, ...loss.dispatches, ...this.#backward, ...adam]);
    enc.copyBufferToBuffer(loss.result.buffer, 0, this.#readback, 0, 8);
    this.gpu.device.queue.submit([enc.finish()]);
    await this.#readback.mapAsync(GPUMapMode.READ);
    const [l, a] = new Float32Array(this.#readback.getMappedRange().slice(0));
    this.#readback.unmap();
    return { loss: l, acc: a };
  }

  #begin(x: Tensor, label: string): GPUCommandEncoder {
    x.expectShape(this.input.shape, "Conv4 input");
    const enc = this.gpu.device.createCommandEncoder({ label });
    if (x !== this.input) enc.copyBufferToBuffer(x.buffer, 0, this.input.buffer, 0, x.bytes);
    return enc;
  }

  /** Reads every parameter and running statistic, by name. */
  async getParameters(): Promise<Map<string, Float32Array>> {
    const out = new Map<string, Float32Array>();
    for (const b of this.blocks) {
      for (const [name, t] of b.namedTensors()) out.set(name, await t.read());
    }
    return out;
  }

  /** Uploads parameters by name; unknown names or wrong sizes throw. Missing names are kept. */
  setParameters(values: ReadonlyMap<string, Float32Array>): void {
    const all = new Map(this.blocks.flatMap((b) => [...b.namedTensors()]));
    for (const [name, data] of values) {
      const t = all.get(name);
      if (!t) throw new RangeError(`Conv4 has no parameter ${name}`);
      if (data.length !== t.size) {
        throw new RangeError(
          `Conv4 parameter ${name} has ${data.length} values, expected ${t.size}`,
        );
      }
      t.write(data);
    }
  }

  /** Reads the gradients of the last backward, by parameter name. */
  async getGradients(): Promise<Map<string, Float32Array>> {
    const out = new Map<string, Float32Array>();
    for (const b of this.blocks) {
      for (const s of b.paramSlots()) out.set(s.name, await s.grad.read());
    }
    return out;
  }

  /** Frees every GPU buffer the model owns. */
  destroy(): void {
    this.blocks.forEach((b) => b.destroy());
    this.#losses.forEach((op) => op.destroy());
    this.optimizer.destroy();
    this.input.destroy();
    this.embeddings.destroy();
    this.embeddingGrad.destroy();
    this.#readback.destroy();
  }
}
