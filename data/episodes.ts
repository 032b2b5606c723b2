/**
 * Seeded N-way K-shot Q-query episodes over real identities, listed as (identity, image
 * index) pairs without touching pixels, so an evaluation can embed each image once and two
 * methods can be scored on the very same episodes.
 *
 * Episode `e` is drawn from its own generator, seeded from (seed, e): it does not depend on
 * how many episodes are asked for or in which order.
 */
import { Rng } from "./random.ts";

/** Episode shape: N classes (ways), K support (shots) and Q query images per class. */
export interface EpisodeSpec {
  /** N: identities per episode. */
  ways: number;
  /** K: support images per identity. */
  shots: number;
  /** Q: query images per identity. */
  queries: number;
}

/** One class of an episode; its label is its position in `Episode.classes`. */
export interface EpisodeClass {
  /** Identity name. */
  identity: string;
  /** K image indices (into the identity's image list). */
  support: number[];
  /** Q image indices, disjoint from `support`. */
  query: number[];
}

/** An episode: N classes with distinct identities. */
export interface Episode {
  /** Episode number e (0-based). */
  index: number;
  /** The N classes, label = position. */
  classes: EpisodeClass[];
}

/** An (identity, image index) reference. */
export interface ImageRef {
  /** Identity name. */
  identity: string;
  /** Index into the identity's image list. */
  index: number;
}

/** Draws episodes from identity image counts (e.g. `FaceDataset.counts()`). */
export class EpisodeSampler {
  /** The episode shape. */
  readonly spec: EpisodeSpec;
  /** The seed. */
  readonly seed: number;
  /** Identities with at least K + Q images, in the order given. */
  readonly eligible: readonly string[];
  #counts: Map<string, number>;

  /**
   * Checks the spec and keeps the identities that can fill a class. Throws when fewer
   * than N identities remain, naming the numbers.
   *
   * @param counts identity -> number of images; those with fewer than K + Q are not used.
   */
  constructor(counts: ReadonlyMap<string, number>, spec: EpisodeSpec, seed: number) {
    for (const [name, min] of [["ways", 1], ["shots", 1], ["queries", 0]] as const) {
      const v = spec[name];
      if (!Number.isInteger(v) || v < min) {
        throw new RangeError(`${name} ${v}: expected an integer >= ${min}`);
      }
    }
    const perClass = spec.shots + spec.queries;
    this.spec = { ...spec };
    this.seed = seed >>> 0;
    this.#counts = new Map(counts);
    this.eligible = [...counts].filter(([, n]) => n >= perClass).map(([id]) => id);
    if (this.eligible.length < spec.ways) {
      throw new RangeError(
        `${spec.ways}-way episodes need ${spec.ways} identities with >= ${perClass} images ` +
          `(K=${spec.shots} + Q=${spec.queries}), but only ${this.eligible.length} of ` +
          `${counts.size} identities have that many`,
      );
    }
  }

  /** Episode `e`; the same (counts, spec, seed, e) always gives the same episode. */
  episode(e: number): Episode {
    if (!Number.isInteger(e) || e < 0) throw new RangeError(`episode ${e}: expected >= 0`);
    const rng = new Rng(_mix(this.seed, e));
    const { ways, shots, queries } = this.spec;
    const identities = rng.sample(this.eligible, ways);
    const classes = identities.map((identity) => {
      const count = this.#counts.get(identity)!;
      const picks = _drawIndices(rng, count, shots + queries);
      return { identity, support: picks.slice(0, shots), query: picks.slice(shots) };
    });
    return { index: e, classes };
  }

  /** Episodes `first .. first + count - 1`. */
  episodes(count: number, first = 0): Episode[] {
    return Array.from({ length: count }, (_, i) => this.episode(first + i));
  }
}

/** `count` seeded episodes (shorthand for `new EpisodeSampler(...).episodes(count)`). */
export function sampleEpisodes(
  counts: ReadonlyMap<string, number>,
  spec: EpisodeSpec,
  count: number,
  seed: number,
): Episode[] {
  return new EpisodeSampler(counts, spec, seed).episodes(count);
}

/** Every image the episodes use, once each, in first-use order (embed these once). */
export function uniqueImages(episodes: readonly Episode[]): ImageRef[] {
  const seen = new Set<string>();
  const out: ImageRef[] = [];
  for (const ep of episodes) {
    for (const c of ep.classes) {
      for (const index of [...c.support, ...c.query]) {
        const key = `${c.identity}\u0000${index}`;
        if (seen.has(key)) continue;
        seen.add(key);
        out.push({ identity: c.identity, index });
      }
    }
  }
  return out;
}

/** `k` distinct indices from 0..n-1 (partial Fisher-Yates; O(k) draws). */
function _drawIndices(rng: Rng, n: number, k: number): number[] {
  const swapped = new Map<number, number>();
  const out: number[] = [];
  for (let i = 0; i < k; i++) {
    const j = i + rng.int(n - i);
    const vj = swapped.get(j) ?? j;
    swapped.set(j, swapped.get(i) ?? i);
    out.push(vj);
  }
  return out;
}

/** A 32-bit seed for episode `e` of stream `seed` (murmur-style finaliser). */
function _mix(seed: number, e: number): number {
  let h = (seed ^ Math.imul(e + 1, 0x9e3779b1)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b) >>> 0;
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35) >>> 0;
  return (h ^ (h >>> 16)) >>> 0;
}
