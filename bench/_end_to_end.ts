/**
 * End-to-end rows of the benchmark, timed on the product's own classes: generator images/s
 * (mapping, broadcast, synthesis with fresh random noise), ProtoNet training episodes/s (one
 * `Conv4.trainStep`: forward, loss, backward, Adam and the loss read-back), evaluation
 * images/s (eval-mode forward), the peak of live GPU tensor bytes while each runs, the buffers
 * and bind groups created per step once warm, and live bytes over a long training run.
 */
import { Rng } from "../data/random.ts";
import type { Gpu } from "../kernels/device.ts";
import { gpuMemory, Tensor } from "../kernels/tensor.ts";
import { Generator } from "../gan/generator.ts";
import type { GeneratorWeights } from "../gan/weights.ts";
import { Conv4 } from "../protonet/conv4.ts";
import {
  countAllocations,
  type Repeated,
  type Summary,
  timeInterleaved,
  type Timing,
} from "./_timing.ts";

/** Episode of the training rows: 5-way 1-shot 5-query, B = 30 images. */
export const EPISODE = { nWay: 5, kShot: 1, nQuery: 5 } as const;
const EPISODE_BATCH = EPISODE.nWay * (EPISODE.kShot + EPISODE.nQuery);

/** One throughput row. */
export interface RateRow {
  /** e.g. "generator images/s". */
  readonly name: string;
  /** What one step is, e.g. "batch 30, 64x64". */
  readonly setup: string;
  /** Items per second: median, slowest (min) and fastest (max) sample. */
  readonly rate: Summary;
  readonly timing: Timing;
  /** Peak live GPU tensor bytes while the row was built and run. */
  readonly peakBytes: number;
  /** Buffers plus bind groups created per timed step (0 = everything reused). */
  readonly allocationsPerStep: number;
}

/** Live GPU tensor bytes over a training run. */
export interface MemoryRow {
  readonly imageSize: number;
  readonly episodes: number;
  readonly afterFirst: number;
  readonly afterLast: number;
  /** Buffers plus bind groups created after the first episode. */
  readonly allocations: number;
}

function _rate(items: number, t: Timing): Summary {
  return {
    median: (1000 * items) / t.wallMs.median,
    min: (1000 * items) / t.wallMs.max,
    max: (1000 * items) / t.wallMs.min,
  };
}

/** Times `run` after a warm-up, counting allocations in the timed part. */
async function _measure(gpu: Gpu, run: Repeated, runs: number) {
  let steps = 0;
  const counted: Repeated = async (reps) => {
    steps += reps;
    await run(reps);
  };
  await run(1);
  let timing: Timing | undefined;
  const allocs = await countAllocations(gpu.device, async () => {
    [timing] = await timeInterleaved([counted], runs);
  });
  return { timing: timing!, allocationsPerStep: (allocs.buffers + allocs.bindGroups) / steps };
}

/** Resets the peak counter to the current live bytes; returns a reader of the rise since. */
function _peakFromHere(): () => number {
  const base = gpuMemory.liveBytes;
  gpuMemory.peakBytes = base;
  return () => gpuMemory.peakBytes - base;
}

/** Generator images/s at `batch`: mapping, broadcast to every style input, synthesis. */
export async function generatorRow(
  gpu: Gpu,
  weights: GeneratorWeights,
  runs: number,
  batch = 30,
): Promise<RateRow> {
  const peak = _peakFromHere();
  const gen = await Generator.create(gpu, weights, batch);
  const rng = new Rng(11);
  const zDim = weights.config.zDim;
  const z = Tensor.from(gpu, rng.normals(batch * zDim), [batch, zDim], "bench.z");
  try {
    const run: Repeated = async (reps) => {
      for (let i = 0; i < reps; i++) {
        gen.synthesize(gen.broadcastWs(gen.mapping(z)), { noise: "random", rng });
      }
      await gpu.device.queue.onSubmittedWorkDone();
    };
    const m = await _measure(gpu, run, runs);
    const res = weights.config.resolution;
    return {
      name: "generator images/s",
      setup: `batch ${batch}, ${res}x${res}, random noise`,
      rate: _rate(batch, m.timing),
      timing: m.timing,
      peakBytes: peak(),
      allocationsPerStep: m.allocationsPerStep,
    };
  } finally {
    z.destroy();
    gen.destroy();
  }
}

/** Training episodes/s and evaluation images/s of Conv-4 at `imageSize`. */
export async function protonetRows(
  gpu: Gpu,
  runs: number,
  imageSize = 64,
): Promise<{ train: RateRow; eval: RateRow }> {
  const peak = _peakFromHere();
  const rng = new Rng(12);
  const model = new Conv4(gpu, rng, { batch: EPISODE_BATCH, imageSize });
  const n = EPISODE_BATCH * 3 * imageSize * imageSize;
  const x = Tensor.from(gpu, rng.normals(n), model.input.shape, "bench.images");
  const { nWay, kShot, nQuery } = EPISODE;
  try {
    const train = await _measure(gpu, async (reps) => {
      for (let i = 0; i < reps; i++) await model.trainStep(x, nWay, kShot, nQuery);
    }, runs);
    const evaluation = await _measure(gpu, async (reps) => {
      for (let i = 0; i < reps; i++) model.forward(x, "eval");
      await gpu.device.queue.onSubmittedWorkDone();
    }, runs);
    const peakBytes = peak();
    const side = `${imageSize}x${imageSize}`;
    return {
      train: {
        name: "train episodes/s",
        setup: `${nWay}-way ${kShot}-shot ${nQuery}-query, ${side}`,
        rate: _rate(1, train.timing),
        timing: train.timing,
        peakBytes,
        allocationsPerStep: train.allocationsPerStep,
      },
      eval: {
        name: "eval images/s",
        setup: `batch ${EPISODE_BATCH}, ${side}, eval-mode forward`,
        rate: _rate(EPISODE_BATCH, evaluation.timing),
        timing: evaluation.timing,
        peakBytes,
        allocationsPerStep: evaluation.allocationsPerStep,
      },
    };
  } finally {
    x.destroy();
    model.destroy();
  }
}

/** Live GPU tensor bytes after the first and the last of `episodes` training steps. */
export async function trainMemoryRow(
  gpu: Gpu,
  episodes: number,
  imageSize = 32,
): Promise<MemoryRow> {
  const rng = new Rng(13);
  const model = new Conv4(gpu, rng, { batch: EPISODE_BATCH, imageSize });
  const x = Tensor.from(
    gpu,
    rng.normals(EPISODE_BATCH * 3 * imageSize * imageSize),
    model.input.shape,
    "bench.images",
  );
  const { nWay, kShot, nQuery } = EPISODE;
  try {
    await model.trainStep(x, nWay, kShot, nQuery);
    const afterFirst = gpuMemory.liveBytes;
    const allocs = await countAllocations(gpu.device, async () => {
      for (let e = 1; e < episodes; e++) await model.trainStep(x, nWay, kShot, nQuery);
    });
    return {
      imageSize,
      episodes,
      afterFirst,
      afterLast: gpuMemory.liveBytes,
      allocations: allocs.buffers + allocs.bindGroups,
    };
  } finally {
    x.destroy();
    model.destroy();
  }
}
