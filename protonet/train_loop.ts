/**
 * Episodic meta-training with periodic meta-validation and early stopping.
 * Knows nothing about where episodes come from (synthetic pool, real data)
 * or how the network is implemented: both arrive through small interfaces.
 */
import { Rng } from "../data/random.ts";
import type { Tensor } from "../kernels/tensor.ts";
import type { AccuracySummary } from "./evaluate.ts";

/** A network that can take one optimisation step on an episode batch. */
export interface TrainableNet {
  /** Input batch [N·(K+Q), 3, S, S], support class-major then query class-major. */
  readonly trainInput: Tensor;
  trainStep(): Promise<{ loss: number; accuracy: number }>;
}

/** Something that fills the training batch with one episode. */
export interface EpisodeSource {
  /** Called before each episode; may regenerate part of a pool. */
  beforeEpisode(episode: number, rng: Rng): Promise<void>;
  fill(batch: Tensor, rng: Rng): void;
}

/** Schedule and stopping rule. */
export interface LoopConfig {
  episodes: number;
  validateEvery: number;
  /** Stop after this many validations without improvement (0 = never stop early). */
  patience: number;
  logEvery: number;
  seed: number;
}

/** State that a checkpoint must carry for `--resume`. */
export interface LoopState {
  /** Episodes completed. */
  episode: number;
  bestValAccuracy: number;
  bestEpisode: number;
  sinceImprovement: number;
  /** Validation history: episode and accuracy with CI. */
  history: { episode: number; mean: number; ci95: number }[];
}

/** Callbacks through which the loop reports and persists. */
export interface LoopHooks {
  validate(): Promise<AccuracySummary>;
  /** Called after every validation; `improved` says whether this is the new best. */
  checkpoint(state: LoopState, improved: boolean): Promise<void>;
  onLog(line: {
    episode: number;
    loss: number;
    accuracy: number;
    episodesPerSecond: number;
  }): void;
  onValidation(state: LoopState, summary: AccuracySummary, improved: boolean): void;
}

/** A fresh loop state. */
export function initialLoopState(): LoopState {
  return { episode: 0, bestValAccuracy: -1, bestEpisode: 0, sinceImprovement: 0, history: [] };
}

/**
 * The random stream for the segment starting at `episode`. Re-deriving it at
 * every validation boundary makes a resumed run draw the same episodes as an
 * uninterrupted one would.
 */
export function segmentRng(seed: number, episode: number): Rng {
  return new Rng((seed * 1000003 + episode * 7919 + 17) >>> 0);
}

/** Runs episodes until the budget is spent or validation stops improving. */
export async function runTrainingLoop(
  net: TrainableNet,
  source: EpisodeSource,
  config: LoopConfig,
  state: LoopState,
  hooks: LoopHooks,
): Promise<{ state: LoopState; stoppedEarly: boolean }> {
  let rng = segmentRng(config.seed, state.episode);
  let lossSum = 0, accSum = 0, count = 0;
  let t0 = performance.now();
  if (state.episode === 0) await validateAndSave();
  while (state.episode < config.episodes) {
    await source.beforeEpisode(state.episode, rng);
    source.fill(net.trainInput, rng);
    const { loss, accuracy } = await net.trainStep();
    if (!Number.isFinite(loss)) {
      throw new Error(
        `training diverged at episode ${state.episode + 1}: loss is ${loss}; ` +
          `lower --lr or check the generator's weights`,
      );
    }
    state.episode++;
    lossSum += loss;
    accSum += accuracy;
    count++;
    if (state.episode % config.logEvery === 0 || state.episode === config.episodes) {
      const seconds = (performance.now() - t0) / 1000;
      hooks.onLog({
        episode: state.episode,
        loss: lossSum / count,
        accuracy: accSum / count,
        episodesPerSecond: count / seconds,
      });
      lossSum = accSum = count = 0;
      t0 = performance.now();
    }
    const atBoundary = state.episode % config.validateEvery === 0 ||
      state.episode === config.episodes;
    if (atBoundary) {
      const stop = await validateAndSave();
      rng = segmentRng(config.seed, state.episode);
      t0 = performance.now();
      if (stop) return { state, stoppedEarly: true };
    }
  }
  return { state, stoppedEarly: false };

  async function validateAndSave(): Promise<boolean> {
    const summary = await hooks.validate();
    state.history.push({ episode: state.episode, mean: summary.mean, ci95: summary.ci95 });
    const improved = summary.mean > state.bestValAccuracy;
    if (improved) {
      state.bestValAccuracy = summary.mean;
      state.bestEpisode = state.episode;
      state.sinceImprovement = 0;
    } else {
      state.sinceImprovement++;
    }
    hooks.onValidation(state, summary, improved);
    await hooks.checkpoint(state, improved);
    return config.patience > 0 && state.sinceImprovement >= config.patience;
  }
}
