/**
 * One Conv-4 block on the GPU: conv 3x3 (padding 1, bias) -> batch norm -> ReLU -> 2x2
 * max-pool, with its parameters, gradients, activations and bound dispatches.
 */
import type { Gpu } from "../kernels/device.ts";
import type { Dispatch } from "../kernels/kernel.ts";
import { Tensor } from "../kernels/tensor.ts";
import type { BoundOp } from "../kernels/bound_op.ts";
import type { Rng } from "../data/random.ts";
import { conv2d, conv2dBackwardData } from "../kernels/conv2d.ts";
import { conv2dBackwardWeight } from "../kernels/conv2d_backward_weight.ts";
import { type BatchnormOp, batchnormRelu, batchnormReluBackward } from "../kernels/batchnorm.ts";
import { maxpool2d, maxpool2dBackward } from "../kernels/maxpool2d.ts";
import type { ParamSlot } from "./adam.ts";

/** Uniform(-bound, bound) values from `rng`. */
function _uniform(rng: Rng, n: number, bound: number): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = (2 * rng.uniform() - 1) * bound;
  return out;
}

/** A Conv-4 block bound to a fixed input tensor [B, C_in, S, S]. */
export class Conv4Block {
  /** [Cout, Cin, 3, 3] */
  readonly weight: Tensor;
  /** [Cout] conv bias, BN weight (gamma), BN bias (beta), running mean and variance */
  readonly bias: Tensor;
  readonly gamma: Tensor;
  readonly beta: Tensor;
  readonly runMean: Tensor;
  readonly runVar: Tensor;
  /** Gradients, shaped as their parameters. */
  readonly dweight: Tensor;
  readonly dbias: Tensor;
  readonly dgamma: Tensor;
  readonly dbeta: Tensor;
  /** Conv output y and ReLU output z [B, Cout, S, S]. */
  readonly y: Tensor;
  readonly z: Tensor;
  /** Pooled output [B, Cout, S/2, S/2] (or the caller's flattened tensor). */
  readonly output: Tensor;
  /** dL/dinput [B, Cin, S, S], when `bindBackward` was asked for it. */
  inputGrad?: Tensor;
  readonly forward: Record<"train" | "eval", Dispatch[]>;
  #ops: BoundOp[] = [];
  #scratch: Tensor[] = [];
  #train: BatchnormOp;

  /**
   * @param input [B, Cin, S, S] (kept bound; its contents may change between runs)
   * @param out optional output tensor with B*Cout*(S/2)^2 elements (else allocated)
   */
  constructor(
    readonly gpu: Gpu,
    rng: Rng,
    readonly name: string,
    readonly input: Tensor,
    cout: number,
    out?: Tensor,
  ) {
    const [batch, cin, h, w] = input.shape;
    const t = (shape: number[], what: string) => {
      const tensor = Tensor.zeros(gpu, shape, `${name}.${what}`);
      this.#scratch.push(tensor);
      return tensor;
    };
    const bound = 1 / Math.sqrt(cin * 9);
    this.weight = t([cout, cin, 3, 3], "conv.weight");
    this.weight.write(_uniform(rng, this.weight.size, bound));
    this.bias = t([cout], "conv.bias");
    this.bias.write(_uniform(rng, cout, bound));
    this.gamma = t([cout], "bn.weight");
    this.gamma.write(new Float32Array(cout).fill(1));
    this.beta = t([cout], "bn.bias");
    this.runMean = t([cout], "bn.running_mean");
    this.runVar = t([cout], "bn.running_var");
    this.runVar.write(new Float32Array(cout).fill(1));
    this.dweight = t([cout, cin, 3, 3], "grad.conv.weight");
    this.dbias = t([cout], "grad.conv.bias");
    this.dgamma = t([cout], "grad.bn.weight");
    this.dbeta = t([cout], "grad.bn.bias");
    this.y = t([batch, cout, h, w], "conv.out");
    this.z = t([batch, cout, h, w], "relu.out");
    this.output = out ?? t([batch, cout, h >> 1, w >> 1], "out");

    const conv = this.#op(conv2d(gpu, input, this.weight, this.bias, this.y));
    const bn = (mode: "train" | "eval") =>
      this.#op(batchnormRelu(
        gpu,
        this.y,
        this.gamma,
        this.beta,
        this.runMean,
        this.runVar,
        this.z,
        mode,
      ));
    this.#train = bn("train");
    const evalBn = bn("eval");
    const pool = maxpool2d(gpu, this.z, this.output);
    this.forward = {
      train: [...conv.dispatches, ...this.#train.dispatches, pool],
      eval: [...conv.dispatches, ...evalBn.dispatches, pool],
    };
  }

  #op<T extends BoundOp>(op: T): T {
    this.#ops.push(op);
    return op;
  }

  /**
   * Binds the backward of this block (after a train-mode forward) given dL/doutput; computes
   * the input gradient into a new `inputGrad` tensor when `withInputGrad`.
   * @param dout [B, Cout, S/2, S/2] (or flattened)
   */
  bindBackward(dout: Tensor, withInputGrad: boolean): Dispatch[] {
    const gpu = this.gpu;
    const dz = Tensor.zeros(gpu, this.z.shape, `${this.name}.grad.relu.out`);
    const dy = Tensor.zeros(gpu, this.y.shape, `${this.name}.grad.conv.out`);
    this.#scratch.push(dz, dy);
    const pool = maxpool2dBackward(gpu, this.z, dout, dz);
    const bn = this.#op(
      batchnormReluBackward(gpu, this.y, dz, this.#train.stats, dy, this.dgamma, this.dbeta),
    );
    const dw = this.#op(conv2dBackwardWeight(gpu, this.input, dy, this.dweight, this.dbias));
    const out = [pool, ...bn.dispatches, ...dw.dispatches];
    if (withInputGrad) {
      this.inputGrad = Tensor.zeros(gpu, this.input.shape, `${this.name}.grad.input`);
      this.#scratch.push(this.inputGrad);
      out.push(...this.#op(conv2dBackwardData(gpu, dy, this.weight, this.inputGrad)).dispatches);
    }
    return out;
  }

  /** Trainable parameters with their gradients, golden names. */
  paramSlots(): ParamSlot[] {
    const n = this.name;
    return [
      { name: `${n}.conv.weight`, param: this.weight, grad: this.dweight },
      { name: `${n}.conv.bias`, param: this.bias, grad: this.dbias },
      { name: `${n}.bn.weight`, param: this.gamma, grad: this.dgamma },
      { name: `${n}.bn.bias`, param: this.beta, grad: this.dbeta },
    ];
  }

  /** Parameters and running statistics by name (checkpoint contents). */
  namedTensors(): Map<string, Tensor> {
    const m = new Map(this.paramSlots().map((s) => [s.name, s.param] as const));
    m.set(`${this.name}.bn.running_mean`, this.runMean);
    m.set(`${this.name}.bn.running_var`, this.runVar);
    return m;
  }

  /** Frees the block's tensors and op scratch (not `input`, nor a caller-given output). */
  destroy(): void {
    this.#ops.forEach((op) => op.destroy());
    this.#scratch.forEach((t) => t.destroy());
  }
}
