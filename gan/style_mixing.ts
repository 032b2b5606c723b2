/**
 * Style-mixing grids: the picture used to decide which style inputs carry
 * identity. Cell (r, c) takes row r's latent at the identity inputs L_id and
 * column c's latent everywhere else; the top row and the left column show the
 * two sources unmixed. If L_id carries identity, a row looks like one person
 * in different poses, lighting and hair.
 */
import type { Rng } from "../data/random.ts";
import type { Generator } from "./generator.ts";
import { renderLatents } from "./render.ts";
import { type LatentMapper, mixLatents } from "./sampler.ts";

/** The mapped latents of a grid: n row sources and n column sources, each [n, wDim]. */
export interface MixingLatents {
  n: number;
  rows: Float32Array;
  cols: Float32Array;
}

/** A rendered grid: `images` row-major, (n + 1) × (n + 1) with a blank corner. */
export interface MixingGrid {
  images: Float32Array[];
  rows: number;
  cols: number;
}

/** Draws n row and n column latents (rows first, then columns) from `rng`. */
export async function drawMixingLatents(
  mapper: LatentMapper,
  n: number,
  rng: Rng,
): Promise<MixingLatents> {
  const rows = await mapper.map(rng.normals(n * mapper.zDim), n);
  const cols = await mapper.map(rng.normals(n * mapper.zDim), n);
  return { n, rows, cols };
}

/**
 * Renders the grid for identity inputs `idLayers` = [a, b) with truncation ψ
 * and constant noise, so cells differ only through their latents. Drawing the
 * latents once and rendering them for several `idLayers` shows side by side
 * which inputs carry identity.
 */
export async function renderMixingGrid(
  generator: Generator,
  wAvg: Float32Array,
  latents: MixingLatents,
  idLayers: readonly [number, number],
  psi: number,
  rng: Rng,
): Promise<MixingGrid> {
  const { n } = latents;
  const { numWs } = generator.config;
  const d = wAvg.length;
  const identity = new Float32Array(n * n * d), others = new Float32Array(n * n * d);
  for (let r = 0; r < n; r++) {
    for (let c = 0; c < n; c++) {
      identity.set(latents.rows.subarray(r * d, (r + 1) * d), (r * n + c) * d);
      others.set(latents.cols.subarray(c * d, (c + 1) * d), (r * n + c) * d);
    }
  }
  const plain = (w: Float32Array) =>
    renderLatents(generator, mixLatents(w, w, n, numWs, [0, numWs], wAvg, psi), n, "const", rng);
  const rowImages = await plain(latents.rows);
  const colImages = await plain(latents.cols);
  const mixed = await renderLatents(
    generator,
    mixLatents(identity, others, n * n, numWs, idLayers, wAvg, psi),
    n * n,
    "const",
    rng,
  );
  const blank = new Float32Array(rowImages[0].length).fill(1);
  const images = [blank, ...colImages];
  for (let r = 0; r < n; r++) images.push(rowImages[r], ...mixed.slice(r * n, (r + 1) * n));
  return { images, rows: n + 1, cols: n + 1 };
}
