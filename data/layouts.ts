/**
 * On-disk layouts of labelled face sets, read into identity -> image paths:
 *
 * - `celeba`: `DIR/img_align_celeba/*.jpg` + `DIR/identity_CelebA.txt` ("000001.jpg 2880").
 * - `folders`: `DIR/<person>/<image>.(jpg|jpeg|png|pgm|ppm)` (LFW, AT&T `s1/1.pgm`).
 *
 * Identities and images are listed in a fixed natural order ("s2" before "s10"), so image
 * indices mean the same on every machine. Nothing here decodes pixels.
 */
import type { CropMode } from "./preprocess.ts";

/** The supported layouts. */
export type LayoutKind = "celeba" | "folders";

/** A labelled face set on disk. */
export interface FaceLayout {
  /** The layout read. */
  kind: LayoutKind;
  /** The directory given. */
  root: string;
  /** The crop that suits this layout (CelebA aligned square, or centre square). */
  crop: CropMode;
  /** Identity name -> image paths, both in natural order; no identity is empty. */
  identities: Map<string, string[]>;
}

/** A layout that cannot be read; the message names the directory, file or line. */
export class LayoutError extends Error {
  /** Builds the error with a message naming the offending path. */
  constructor(message: string) {
    super(message);
    this.name = "LayoutError";
  }
}

/** File name of the CelebA identity list. */
export const CELEBA_IDENTITY_FILE = "identity_CelebA.txt";
/** Folder of the aligned CelebA images. */
export const CELEBA_IMAGE_DIR = "img_align_celeba";
/** Image file extensions accepted in the folder-per-identity layout (lower case). */
export const IMAGE_EXTENSIONS: readonly string[] = [".jpg", ".jpeg", ".png", ".pgm", ".ppm"];

/** One parsed line of `identity_CelebA.txt`. */
export interface IdentityLine {
  /** 1-based line number. */
  line: number;
  /** Image file name. */
  file: string;
  /** Identity label (as text, e.g. "2880"). */
  identity: string;
}

/**
 * Parses `identity_CelebA.txt`: blank lines are skipped, any other line must be
 * `<file>.jpg|png <integer>`; an error names the line number and its text.
 */
export function parseIdentityLines(text: string, path: string): IdentityLine[] {
  const out: IdentityLine[] = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i].trim();
    if (raw === "") continue;
    const m = /^(\S+\.(?:jpg|jpeg|png))\s+(\d+)$/i.exec(raw);
    if (!m) {
      throw new LayoutError(
        `${path}:${i + 1}: malformed line ${JSON.stringify(_clip(raw))}; ` +
          `expected "<image>.jpg <identity number>"`,
      );
    }
    out.push({ line: i + 1, file: m[1], identity: m[2] });
  }
  return out;
}

/** Reads the CelebA layout; every listed file must exist in `img_align_celeba/`. */
export async function readCelebaLayout(dir: string): Promise<FaceLayout> {
  await _requireDir(dir);
  const listPath = _join(dir, CELEBA_IDENTITY_FILE);
  const imageDir = _join(dir, CELEBA_IMAGE_DIR);
  let text: string;
  try {
    text = await Deno.readTextFile(listPath);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) {
      throw new LayoutError(`${listPath}: missing (the CelebA layout needs it)`);
    }
    throw err;
  }
  const present = new Set<string>();
  try {
    for await (const e of Deno.readDir(imageDir)) if (e.isFile) present.add(e.name);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) {
      throw new LayoutError(`${imageDir}: missing (the CelebA layout needs it)`);
    }
    throw err;
  }
  const entries = parseIdentityLines(text, listPath);
  if (entries.length === 0) throw new LayoutError(`${listPath}: lists no images`);
  const identities = new Map<string, string[]>();
  for (const { line, file, identity } of entries) {
    if (!present.has(file)) {
      throw new LayoutError(`${listPath}:${line}: names ${file}, which is not in ${imageDir}`);
    }
    let list = identities.get(identity);
    if (!list) identities.set(identity, list = []);
    list.push(_join(imageDir, file));
  }
  return { kind: "celeba", root: dir, crop: "celeba", identities: _sorted(identities) };
}

/** Reads a folder-per-identity layout; files with other extensions are ignored. */
export async function readFolderLayout(dir: string): Promise<FaceLayout> {
  const top = await _listDir(dir);
  const identities = new Map<string, string[]>();
  for (const entry of top) {
    if (!entry.isDirectory || entry.name.startsWith(".")) continue;
    const personDir = _join(dir, entry.name);
    const images: string[] = [];
    for await (const f of Deno.readDir(personDir)) {
      if (f.isDirectory || f.name.startsWith(".") || !isImageFileName(f.name)) continue;
      images.push(_join(personDir, f.name));
    }
    if (images.length > 0) identities.set(entry.name, images);
  }
  if (identities.size === 0) {
    throw new LayoutError(
      `${dir}: no identity folders with images (expected ${dir}/<person>/<image>` +
        `${IMAGE_EXTENSIONS.join("|")}, or the CelebA layout)`,
    );
  }
  return { kind: "folders", root: dir, crop: "center", identities: _sorted(identities) };
}

/** True when the name ends in an accepted image extension (case-insensitive). */
export function isImageFileName(name: string): boolean {
  const lower = name.toLowerCase();
  return IMAGE_EXTENSIONS.some((ext) => lower.endsWith(ext));
}

/** `celeba` when `identity_CelebA.txt` or `img_align_celeba/` is present, else `folders`. */
export async function detectLayout(dir: string): Promise<LayoutKind> {
  const entries = await _listDir(dir);
  const names = new Set(entries.map((e) => e.name));
  if (names.has(CELEBA_IDENTITY_FILE) || names.has(CELEBA_IMAGE_DIR)) return "celeba";
  return "folders";
}

/** Reads a face set, detecting the layout unless one is given. */
export async function readLayout(
  dir: string,
  kind: LayoutKind | "auto" = "auto",
): Promise<FaceLayout> {
  const resolved = kind === "auto" ? await detectLayout(dir) : kind;
  return resolved === "celeba" ? await readCelebaLayout(dir) : await readFolderLayout(dir);
}

/** Compares strings with digit runs taken as numbers ("s2" < "s10"); total and stable. */
export function naturalCompare(a: string, b: string): number {
  const ra = a.match(/\d+|\D+/g) ?? [], rb = b.match(/\d+|\D+/g) ?? [];
  for (let i = 0; i < Math.min(ra.length, rb.length); i++) {
    const x = ra[i], y = rb[i];
    if (x === y) continue;
    const dx = /^\d/.test(x), dy = /^\d/.test(y);
    if (dx && dy) {
      const nx = x.replace(/^0+/, ""), ny = y.replace(/^0+/, "");
      if (nx.length !== ny.length) return nx.length - ny.length;
      if (nx !== ny) return nx < ny ? -1 : 1;
      return x.length - y.length;
    }
    return x < y ? -1 : 1;
  }
  if (ra.length !== rb.length) return ra.length - rb.length;
  return a < b ? -1 : a > b ? 1 : 0;
}

function _sorted(map: Map<string, string[]>): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const key of [...map.keys()].sort(naturalCompare)) {
    out.set(key, map.get(key)!.sort(naturalCompare));
  }
  return out;
}

async function _requireDir(dir: string): Promise<void> {
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(dir);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) {
      throw new LayoutError(`${dir}: face data directory does not exist`);
    }
    throw err;
  }
  if (!info.isDirectory) throw new LayoutError(`${dir}: is not a directory`);
}

async function _listDir(dir: string): Promise<Deno.DirEntry[]> {
  await _requireDir(dir);
  const out: Deno.DirEntry[] = [];
  for await (const e of Deno.readDir(dir)) out.push(e);
  if (out.length === 0) throw new LayoutError(`${dir}: directory is empty`);
  return out;
}

function _join(dir: string, name: string): string {
  return dir.endsWith("/") ? dir + name : `${dir}/${name}`;
}

function _clip(text: string): string {
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}
