/**
 * Real training episodes for the supervised ProtoNet baseline: N labelled
 * training identities, K support + Q query photos each, drawn with the
 * training loop's random stream and uploaded into the episode batch. The
 * images are decoded and preprocessed once (a LoadedSet), exactly like the
 * validation and test photos.
 *
 * Shape legend: N classes, K support and Q query images per class, S side.
 */
import type { Rng } from "../data/random.ts";
import type { Tensor } from "../kernels/tensor.ts";
import type { LoadedSet } from "./real_eval.ts";
import type { EpisodeSource } from "./train_loop.ts";

/** Draws N-way K-shot Q-query episodes from labelled identities. */
export class RealEpisodes implements EpisodeSource {
  /** Identities with at least K + Q images. */
  readonly eligible: readonly string[];
  readonly #perImage: number;

  /** Throws a RangeError when fewer than N identities have K + Q images. */
  constructor(
    readonly set: LoadedSet,
    readonly way: number,
    readonly shot: number,
    readonly query: number,
  ) {
    this.eligible = [...set.ranges].filter(([, r]) => r.count >= shot + query).map(([id]) => id);
    if (this.eligible.length < way) {
      throw new RangeError(
        `supervised episodes: ${this.eligible.length} training identities have ≥ ${
          shot + query
        } images (K=${shot} + Q=${query}); ${way}-way episodes need ${way}`,
      );
    }
    this.#perImage = set.images[set.ranges.get(this.eligible[0])!.start].length;
  }

  /** Nothing to regenerate: the photos are fixed. */
  beforeEpisode(_episode: number, _rng: Rng): Promise<void> {
    return Promise.resolve();
  }

  /** Writes one episode into `batch` [N·(K+Q), 3, S, S]: support class-major, then query. */
  fill(batch: Tensor, rng: Rng): void {
    const { way, shot, query } = this;
    const side = Math.round(Math.sqrt(this.#perImage / 3));
    batch.expectShape([way * (shot + query), 3, side, side], "supervised episode batch");
    batch.write(this.episodeImages(rng));
  }

  /** One episode's images as one array [N·(K+Q), 3, S, S], in the batch order of `fill`. */
  episodeImages(rng: Rng): Float32Array {
    const { way, shot, query } = this;
    const per = this.#perImage;
    const out = new Float32Array(way * (shot + query) * per);
    rng.sample(this.eligible, way).forEach((id, label) => {
      const r = this.set.ranges.get(id)!;
      const picks = rng.sample([...Array(r.count).keys()], shot + query);
      picks.forEach((m, j) => {
        const slot = j < shot ? label * shot + j : way * shot + label * query + (j - shot);
        out.set(this.set.images[r.start + m], slot * per);
      });
    });
    return out;
  }
}
