/**
 * Latent-space task sampling (method.md, "One synthetic episode").
 *
 * Works on CPU arrays of latents: z ∈ R^zDim, w ∈ R^wDim, ws ∈ R^{numWs × wDim}.
 * The generator's mapping network is reached through `LatentMapper`, so this
 * file knows nothing about WebGPU. Distances on the identity style inputs
 * L_id = [a, b) are `d(w1, w2) = ‖w1 − w2‖₂ · √(b − a)`, because every style
 * input of an unmixed latent holds the same w (the broadcast of the mapping
 * output), so the concatenation over L_id repeats w (b − a) times.
 */
import type { Rng } from "../data/random.ts";

/** Maps a batch of z to w on the GPU (or anywhere). Shapes: [n, zDim] → [n, wDim]. */
export interface LatentMapper {
  readonly zDim: number;
  readonly wDim: number;
  readonly numWs: number;
  /** Mean w of the generator, the truncation centre, [wDim]. */
  readonly wAvg: Float32Array;
  map(z: Float32Array, n: number): Promise<Float32Array>;
}

/** Which sampler builds the classes (method.md, samplers to offer). */
export type SamplerKind = "mix" | "nomix" | "zspace" | "random";

/** All sampler knobs; thresholds are fractions of the calibrated median distance. */
export interface SamplerConfig {
  kind: SamplerKind;
  /** Identity style inputs [start, end). */
  idLayers: readonly [number, number];
  /** Anchors must be pairwise farther than epsAnchor · median. */
  epsAnchor: number;
  /** Near samples must be closer to their anchor than epsNear · median. */
  epsNear: number;
  /** Initial z-space noise scale for near samples. */
  sigma: number;
  /** Bounds within which σ adapts to keep the acceptance rate reasonable. */
  sigmaMin: number;
  sigmaMax: number;
  /** Truncation ψ applied to mixed latents (1 = none). */
  psi: number;
  /** Candidates tried per wanted latent before giving up. */
  maxTriesPerSample: number;
}

/** Defaults for the embedded 64 px generator (identity inputs 3-6, the 16-32 px layers). */
export const DEFAULT_SAMPLER: SamplerConfig = {
  kind: "mix",
  idLayers: [3, 7],
  epsAnchor: 1.0,
  epsNear: 0.5,
  sigma: 0.5,
  sigmaMin: 0.02,
  sigmaMax: 2.0,
  psi: 1.0,
  maxTriesPerSample: 200,
};

/** Running acceptance counters, reported in logs. */
export interface AcceptanceStats {
  anchorTried: number;
  anchorKept: number;
  nearTried: number;
  nearKept: number;
  sigmaChanges: number;
}

/** One synthetic class: its anchor and member latents ready for synthesis. */
export interface SyntheticClass {
  /** [wDim] mapping output of the anchor. */
  anchorW: Float32Array;
  /** [members, numWs, wDim] per-input latents for synthesis. */
  ws: Float32Array;
}

/** Raised when rejection sampling exceeds its bound; names the thresholds. */
export class SamplingError extends Error {
  override name = "SamplingError";
}

/** Euclidean distance between two vectors. */
export function euclidean(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) {
    const d = a[i] - b[i];
    s += d * d;
  }
  return Math.sqrt(s);
}

/** Median of an array of numbers (copy sorted). */
export function median(values: readonly number[]): number {
  const s = [...values].sort((x, y) => x - y);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Result of calibration: the median pairwise distance in w (identity inputs) and z. */
export interface Calibration {
  samples: number;
  idLayers: [number, number];
  medianW: number;
  medianZ: number;
}

/**
 * Median pairwise identity distance over `samples` random latents (each paired
 * with a random other one), in w-space on the identity inputs and in z-space.
 */
export async function calibrate(
  mapper: LatentMapper,
  idLayers: readonly [number, number],
  samples: number,
  rng: Rng,
): Promise<Calibration> {
  const z = rng.normals(samples * mapper.zDim);
  const w = await mapper.map(z, samples);
  const dw: number[] = [], dz: number[] = [];
  const scale = Math.sqrt(idLayers[1] - idLayers[0]);
  for (let i = 0; i < samples; i++) {
    let j = rng.int(samples - 1);
    if (j >= i) j++;
    dw.push(scale * euclidean(row(w, i, mapper.wDim), row(w, j, mapper.wDim)));
    dz.push(euclidean(row(z, i, mapper.zDim), row(z, j, mapper.zDim)));
  }
  return {
    samples,
    idLayers: [idLayers[0], idLayers[1]],
    medianW: median(dw),
    medianZ: median(dz),
  };
}

function row(a: Float32Array, i: number, n: number): Float32Array {
  return a.subarray(i * n, (i + 1) * n);
}

/**
 * Draws N-way classes of synthetic latents. Holds σ across calls so its
 * adaptation carries over from episode to episode.
 */
export class TaskSampler {
  sigma: number;
  readonly stats: AcceptanceStats = {
    anchorTried: 0,
    anchorKept: 0,
    nearTried: 0,
    nearKept: 0,
    sigmaChanges: 0,
  };
  /** Messages about σ changes since the last `drainNotes()`. */
  #notes: string[] = [];
  /** Near-sample candidates tried and kept since σ last changed. */
  #window = { tried: 0, kept: 0 };

  constructor(
    readonly mapper: LatentMapper,
    readonly config: SamplerConfig,
    readonly calibration: Calibration,
  ) {
    const [a, b] = config.idLayers;
    if (!(0 <= a && a < b && b <= mapper.numWs)) {
      throw new RangeError(
        `identity layers [${a}, ${b}) must lie within the generator's ${mapper.numWs} style inputs`,
      );
    }
    this.sigma = config.sigma;
  }

  /** Notes about adaptations made since the last call (for the log). */
  drainNotes(): string[] {
    const n = this.#notes;
    this.#notes = [];
    return n;
  }

  /** Distance used for rejection: identity w-inputs, or z for the z-space sampler. */
  #distance(za: Float32Array, wa: Float32Array, zb: Float32Array, wb: Float32Array): number {
    if (this.config.kind === "zspace") return euclidean(za, zb);
    const [a, b] = this.config.idLayers;
    return Math.sqrt(b - a) * euclidean(wa, wb);
  }

  #median(): number {
    return this.config.kind === "zspace" ? this.calibration.medianZ : this.calibration.medianW;
  }

  /** N classes with `members` latents each (method.md steps 1-3). */
  async sampleClasses(nWay: number, members: number, rng: Rng): Promise<SyntheticClass[]> {
    const anchors = await this.#anchors(nWay, rng);
    const out: SyntheticClass[] = [];
    for (const anchor of anchors) {
      const near = await this.#near(anchor, members, rng);
      out.push({ anchorW: anchor.w, ws: await this.#compose(near, rng) });
    }
    return out;
  }

  async #anchors(nWay: number, rng: Rng): Promise<{ z: Float32Array; w: Float32Array }[]> {
    const { zDim, wDim } = this.mapper;
    const threshold = this.config.epsAnchor * this.#median();
    const reject = this.config.kind !== "random";
    const kept: { z: Float32Array; w: Float32Array }[] = [];
    const maxTries = this.config.maxTriesPerSample * nWay;
    let tried = 0;
    while (kept.length < nWay) {
      if (tried >= maxTries) {
        throw new SamplingError(
          `found only ${kept.length} of ${nWay} anchors in ${tried} tries: pairwise distance ` +
            `must exceed eps_anchor ${this.config.epsAnchor} × median ${
              this.#median().toFixed(4)
            }` +
            ` = ${threshold.toFixed(4)}; lower --eps-anchor`,
        );
      }
      const batch = nWay * 2;
      const z = rng.normals(batch * zDim);
      const w = await this.mapper.map(z, batch);
      for (let i = 0; i < batch && kept.length < nWay; i++) {
        tried++;
        const c = { z: row(z, i, zDim).slice(), w: row(w, i, wDim).slice() };
        const ok = !reject || kept.every((k) => this.#distance(k.z, k.w, c.z, c.w) > threshold);
        if (ok) kept.push(c);
      }
    }
    this.stats.anchorTried += tried;
    this.stats.anchorKept += kept.length;
    return kept;
  }

  async #near(
    anchor: { z: Float32Array; w: Float32Array },
    members: number,
    rng: Rng,
  ): Promise<{ z: Float32Array; w: Float32Array }[]> {
    const { zDim, wDim } = this.mapper;
    const threshold = this.config.epsNear * this.#median();
    const reject = this.config.kind !== "random";
    const kept: { z: Float32Array; w: Float32Array }[] = [];
    const maxTries = this.config.maxTriesPerSample * members;
    let tried = 0;
    while (kept.length < members) {
      if (tried >= maxTries) {
        throw new SamplingError(
          `found only ${kept.length} of ${members} near samples in ${tried} tries: distance to ` +
            `the anchor must stay below eps_near ${this.config.epsNear} × median ` +
            `${this.#median().toFixed(4)} = ${threshold.toFixed(4)} (σ now ${
              this.sigma.toFixed(3)
            }` +
            `, bounds ${this.config.sigmaMin}..${this.config.sigmaMax}); raise --eps-near`,
        );
      }
      const batch = Math.max(members * 2, 8);
      const z = rng.normals(batch * zDim);
      for (let i = 0; i < batch; i++) {
        for (let j = 0; j < zDim; j++) z[i * zDim + j] = anchor.z[j] + this.sigma * z[i * zDim + j];
      }
      const w = await this.mapper.map(z, batch);
      let acceptedHere = 0;
      for (let i = 0; i < batch; i++) {
        const c = { z: row(z, i, zDim).slice(), w: row(w, i, wDim).slice() };
        const ok = !reject || this.#distance(anchor.z, anchor.w, c.z, c.w) < threshold;
        if (ok) {
          acceptedHere++;
          if (kept.length < members) kept.push(c);
        }
      }
      tried += batch;
      this.stats.nearTried += batch;
      this.stats.nearKept += acceptedHere;
      if (reject) this.#adaptSigma(acceptedHere, batch);
    }
    return kept;
  }

  /**
   * Keeps the near-sample acceptance rate within [0.1, 0.9] by scaling σ
   * within bounds. The rate is measured over at least 200 candidates (many
   * anchors), since one anchor's rate says little about the next one's.
   */
  #adaptSigma(kept: number, tried: number): void {
    this.#window.tried += tried;
    this.#window.kept += kept;
    if (this.#window.tried < 200) return;
    const rate = this.#window.kept / this.#window.tried;
    this.#window = { tried: 0, kept: 0 };
    const { sigmaMin, sigmaMax } = this.config;
    let next = this.sigma;
    if (rate < 0.1) next = Math.max(sigmaMin, this.sigma * 0.7);
    else if (rate > 0.9) next = Math.min(sigmaMax, this.sigma * 1.25);
    if (next !== this.sigma) {
      this.#notes.push(
        `near-sample acceptance ${(100 * rate).toFixed(0)}% over the last candidates: ` +
          `σ ${this.sigma.toFixed(3)} → ${next.toFixed(3)}`,
      );
      this.sigma = next;
      this.stats.sigmaChanges++;
    }
  }

  /** Builds per-input latents [members, numWs, wDim] for kept near samples (step 3). */
  async #compose(near: { z: Float32Array; w: Float32Array }[], rng: Rng): Promise<Float32Array> {
    const { zDim, wDim, numWs, wAvg } = this.mapper;
    const n = near.length;
    const nearW = new Float32Array(n * wDim);
    near.forEach((s, i) => nearW.set(s.w, i * wDim));
    const mix = this.config.kind === "mix" || this.config.kind === "random";
    const other = mix ? await this.mapper.map(rng.normals(n * zDim), n) : nearW;
    return mixLatents(nearW, other, n, numWs, this.config.idLayers, wAvg, this.config.psi);
  }
}

/**
 * Per-input latents [n, numWs, wDim] that take `wId` at style inputs [a, b)
 * and `wOther` elsewhere, truncated toward `wAvg` with ψ. Inputs are [n, wDim].
 */
export function mixLatents(
  wId: Float32Array,
  wOther: Float32Array,
  n: number,
  numWs: number,
  idLayers: readonly [number, number],
  wAvg: Float32Array,
  psi = 1,
): Float32Array {
  const wDim = wAvg.length;
  const out = new Float32Array(n * numWs * wDim);
  for (let i = 0; i < n; i++) {
    for (let l = 0; l < numWs; l++) {
      const src = l >= idLayers[0] && l < idLayers[1] ? wId : wOther;
      for (let j = 0; j < wDim; j++) {
        const v = src[i * wDim + j];
        out[(i * numWs + l) * wDim + j] = wAvg[j] + psi * (v - wAvg[j]);
      }
    }
  }
  return out;
}

/**
 * Style inputs whose resolution lies in [lo, hi] pixels, as an index range
 * (method.md: input i feeds resolution 4·2^floor(i/2)).
 */
export function layersForResolutions(numWs: number, lo: number, hi: number): [number, number] {
  const idx: number[] = [];
  for (let i = 0; i < numWs; i++) {
    const r = 4 * 2 ** Math.floor(i / 2);
    if (r >= lo && r <= hi) idx.push(i);
  }
  if (idx.length === 0) {
    throw new RangeError(`no style input feeds a resolution in ${lo}..${hi} px`);
  }
  return [idx[0], idx[idx.length - 1] + 1];
}
