/**
 * `FaceDataset`: a labelled face set (identity -> image paths) whose images are decoded and
 * preprocessed lazily, once, and kept in an in-memory cache of `[3, S, S]` tensors.
 *
 * Corrupt images: with `onCorrupt: "error"` (strict) the first one throws an
 * `ImageDecodeError` naming the file. With `"skip"` (the default, for long jobs) call
 * `verify()` before sampling episodes: it decodes every image, drops the bad ones (and any
 * identity left with fewer than `minImages`) and lists them in `skipped` for the CLI to print.
 */
import { decodeImageFile, ImageDecodeError } from "./decode.ts";
import { type FaceLayout, type LayoutKind, readLayout } from "./layouts.ts";
import { type ColorMode, type CropMode, preprocess } from "./preprocess.ts";

/** What to do with an image that cannot be decoded. */
export type CorruptPolicy = "skip" | "error";

/** Options for {@link FaceDataset.open}. */
export interface FaceDatasetOptions {
  /** Output side S of each `[3, S, S]` tensor. */
  size: number;
  /** Colour handling (default "rgb"). */
  mode?: ColorMode;
  /** Keep identities with at least this many images (default 1). */
  minImages?: number;
  /** Corrupt-image policy (default "skip"). */
  onCorrupt?: CorruptPolicy;
  /** Layout, or "auto" to detect it (default). */
  layout?: LayoutKind | "auto";
  /** Crop override; by default the layout's own (CelebA square or centre square). */
  crop?: CropMode;
  /** Most tensors kept in memory; least recently used ones are evicted (default no limit). */
  cacheLimit?: number;
}

/** An image left out because it could not be decoded. */
export interface SkippedImage {
  /** Its identity. */
  identity: string;
  /** Its file. */
  path: string;
  /** The decoder's message (names the file and the kind of failure). */
  reason: string;
}

/** One loaded image of an identity. */
export interface LoadedImage {
  /** Index within the identity's image list. */
  index: number;
  /** The file. */
  path: string;
  /** `[3, S, S]` in [-1, 1]. */
  tensor: Float32Array;
}

/** The result of {@link FaceDataset.verify}. */
export interface VerifyReport {
  /** Images decoded. */
  checked: number;
  /** Images dropped as corrupt in this pass. */
  skipped: SkippedImage[];
  /** Identities dropped because fewer than `minImages` good images remained. */
  droppedIdentities: string[];
}

interface _Settings {
  size: number;
  mode: ColorMode;
  crop: CropMode;
  minImages: number;
  onCorrupt: CorruptPolicy;
  cacheLimit: number;
}

/** State shared by a dataset and its subsets: settings, tensor cache, failures. */
class _Store {
  readonly cache = new Map<string, Float32Array>();
  readonly pending = new Map<string, Promise<Float32Array>>();
  readonly failed = new Map<string, ImageDecodeError>();
  readonly skipped: SkippedImage[] = [];

  constructor(readonly settings: _Settings) {}

  async load(path: string): Promise<Float32Array> {
    const hit = this.cache.get(path);
    if (hit) {
      this.cache.delete(path); // re-insert: most recently used last
      this.cache.set(path, hit);
      return hit;
    }
    const failure = this.failed.get(path);
    if (failure) throw failure;
    let job = this.pending.get(path);
    if (!job) {
      job = this.#decode(path);
      this.pending.set(path, job);
    }
    try {
      return await job;
    } finally {
      this.pending.delete(path);
    }
  }

  async #decode(path: string): Promise<Float32Array> {
    const { size, mode, crop, cacheLimit } = this.settings;
    let tensor: Float32Array;
    try {
      tensor = preprocess(await decodeImageFile(path), { size, mode, crop });
    } catch (err) {
      // A RangeError here is an image too small for its crop: a bad image, not a bug.
      const bad = err instanceof RangeError
        ? new ImageDecodeError(path, "unsupported", err.message)
        : err;
      if (bad instanceof ImageDecodeError) this.failed.set(path, bad);
      throw bad;
    }
    if (cacheLimit > 0) {
      this.cache.set(path, tensor);
      while (this.cache.size > cacheLimit) this.cache.delete(this.cache.keys().next().value!);
    }
    return tensor;
  }
}

/** A labelled face set with lazily decoded, cached, preprocessed images. */
export class FaceDataset {
  /** The data directory. */
  readonly root: string;
  /** The layout it was read as. */
  readonly kind: LayoutKind;
  /** Identities (before the `minImages` filter) that had too few images. */
  readonly belowMinimum: readonly string[];
  #store: _Store;
  #images: Map<string, string[]>;

  private constructor(
    root: string,
    kind: LayoutKind,
    store: _Store,
    images: Map<string, string[]>,
    belowMinimum: string[],
  ) {
    this.root = root;
    this.kind = kind;
    this.#store = store;
    this.#images = images;
    this.belowMinimum = belowMinimum;
  }

  /** Reads the layout of `dir` (no pixels are decoded yet). */
  static async open(dir: string, options: FaceDatasetOptions): Promise<FaceDataset> {
    return FaceDataset.fromLayout(await readLayout(dir, options.layout ?? "auto"), options);
  }

  /** Builds a dataset from a layout already read. */
  static fromLayout(layout: FaceLayout, options: FaceDatasetOptions): FaceDataset {
    const settings: _Settings = {
      size: options.size,
      mode: options.mode ?? "rgb",
      crop: options.crop ?? layout.crop,
      minImages: options.minImages ?? 1,
      onCorrupt: options.onCorrupt ?? "skip",
      cacheLimit: options.cacheLimit ?? Infinity,
    };
    if (!Number.isInteger(settings.size) || settings.size < 1) {
      throw new RangeError(`size ${settings.size}: expected an integer >= 1`);
    }
    if (!Number.isInteger(settings.minImages) || settings.minImages < 1) {
      throw new RangeError(`minImages ${settings.minImages}: expected an integer >= 1`);
    }
    const kept = new Map<string, string[]>(), below: string[] = [];
    for (const [id, paths] of layout.identities) {
      if (paths.length >= settings.minImages) kept.set(id, [...paths]);
      else below.push(id);
    }
    return new FaceDataset(layout.root, layout.kind, new _Store(settings), kept, below);
  }

  /** Identity names in natural order. */
  get identities(): string[] {
    return [...this.#images.keys()];
  }

  /** Output side S. */
  get imageSize(): number {
    return this.#store.settings.size;
  }

  /** Colour mode of the tensors. */
  get mode(): ColorMode {
    return this.#store.settings.mode;
  }

  /** Total images over all identities. */
  get imageTotal(): number {
    let n = 0;
    for (const paths of this.#images.values()) n += paths.length;
    return n;
  }

  /** Images dropped as corrupt so far (shared with subsets), for the CLI to print. */
  get skipped(): readonly SkippedImage[] {
    return this.#store.skipped;
  }

  /** Identity -> image count (the input of the episode sampler). */
  counts(): Map<string, number> {
    return new Map([...this.#images].map(([id, paths]) => [id, paths.length]));
  }

  /** The image files of an identity, in index order. */
  imagePaths(identity: string): readonly string[] {
    const paths = this.#images.get(identity);
    if (!paths) throw new RangeError(`unknown identity ${JSON.stringify(identity)}`);
    return paths;
  }

  /** The `[3, S, S]` tensor of image `index` of `identity` (decoded on first use). */
  async image(identity: string, index: number): Promise<Float32Array> {
    const paths = this.imagePaths(identity);
    if (!Number.isInteger(index) || index < 0 || index >= paths.length) {
      throw new RangeError(`${identity}: image index ${index} outside 0..${paths.length - 1}`);
    }
    try {
      return await this.#store.load(paths[index]);
    } catch (err) {
      if (err instanceof ImageDecodeError) this.#noteSkip(identity, err);
      throw err;
    }
  }

  /**
   * All images of an identity. Strict mode throws on a corrupt one; skip mode leaves it
   * out (recording it in `skipped`), so the returned `index` fields may have gaps.
   */
  async loadIdentity(identity: string): Promise<LoadedImage[]> {
    const paths = this.imagePaths(identity);
    const out: LoadedImage[] = [];
    for (let index = 0; index < paths.length; index++) {
      try {
        out.push({ index, path: paths[index], tensor: await this.image(identity, index) });
      } catch (err) {
        if (!(err instanceof ImageDecodeError) || this.#store.settings.onCorrupt === "error") {
          throw err;
        }
      }
    }
    return out;
  }

  /**
   * Decodes every image (filling the cache). Skip mode removes corrupt images from their
   * identity and drops identities left under `minImages`; strict mode throws on the first.
   * `onProgress(done, total)` is called after each image.
   */
  async verify(onProgress?: (done: number, total: number) => void): Promise<VerifyReport> {
    const total = this.imageTotal;
    const report: VerifyReport = { checked: 0, skipped: [], droppedIdentities: [] };
    for (const [identity, paths] of [...this.#images]) {
      const good: string[] = [];
      for (let index = 0; index < paths.length; index++) {
        try {
          await this.image(identity, index);
          good.push(paths[index]);
        } catch (err) {
          if (!(err instanceof ImageDecodeError) || this.#store.settings.onCorrupt === "error") {
            throw err;
          }
          report.skipped.push({ identity, path: paths[index], reason: err.message });
        }
        report.checked++;
        onProgress?.(report.checked, total);
      }
      if (good.length >= this.#store.settings.minImages) this.#images.set(identity, good);
      else {
        this.#images.delete(identity);
        report.droppedIdentities.push(identity);
      }
    }
    return report;
  }

  /** A view on some identities, sharing settings, cache and skip list with this one. */
  subset(identities: readonly string[]): FaceDataset {
    const images = new Map<string, string[]>();
    for (const id of identities) images.set(id, [...this.imagePaths(id)]);
    return new FaceDataset(this.root, this.kind, this.#store, images, []);
  }

  #noteSkip(identity: string, err: ImageDecodeError): void {
    const skipped = this.#store.skipped;
    if (!skipped.some((s) => s.path === err.path)) {
      skipped.push({ identity, path: err.path, reason: err.message });
    }
  }
}
