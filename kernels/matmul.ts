/**
 * Register-tiled matrix product `C = act(alpha · A·B + beta · bias)` with either operand stored
 * transposed, a strided / offset A (to read rows of a larger tensor in place) and the layer
 * epilogue of `linear`. The layout (transposes, vec4-aligned strides) and the tile shape are
 * chosen once at bind time as override constants of the one `matmul.wgsl` source.
 *
 * Shape legend: M rows of C, N columns of C, K the summed dimension.
 */
import src from "./matmul.wgsl" with { type: "text" };
import type { Gpu } from "./device.ts";
import { type Dispatch, groups, Kernel } from "./kernel.ts";
import type { Tensor } from "./tensor.ts";

const kernel = new Kernel("matmul", src);

/** Invocations per workgroup (the WGSL `WG` override). */
const WORKGROUP = 64;
/** Largest K: the WGSL K loop (4 k per trip) stays under llvmpipe's 65535-trip cutoff. */
const MAX_K = 4 * 65535;
/** Largest tile side the WGSL register arrays hold (`MAX_T`). */
const MAX_TILE = 32;

/** Rows x columns of C computed by one invocation. */
export interface MatmulTile {
  /** Rows of C per invocation (multiple of 4, at most 32). */
  rows: number;
  /** Columns of C per invocation (multiple of 4, at most 32). */
  cols: number;
}

/**
 * Tiles tried largest first. On llvmpipe every storage load is a per-lane loop that costs far
 * more than an FMA, so the tile is as large as the work allows (32 x 16: 12 FMAs per loaded
 * float; the spills of 512 accumulators cost less than the loads they save). On a GPU a tile of
 * 8 x 8 keeps the accumulators in registers and leaves enough invocations.
 * `bench/matmul_tiles.ts` times them.
 */
const SOFTWARE_TILES: readonly MatmulTile[] = [
  { rows: 32, cols: 16 },
  { rows: 16, cols: 16 },
  { rows: 8, cols: 8 },
  { rows: 4, cols: 4 },
];
const GPU_TILES: readonly MatmulTile[] = [{ rows: 8, cols: 8 }, { rows: 4, cols: 4 }];
/** Fewest invocations a tile must leave: 4 workgroups on llvmpipe (2 cores), 16K on a GPU. */
const MIN_INVOCATIONS = { software: 4 * WORKGROUP, gpu: 16384 };

/** The tile `matmul` uses for C [M, N] on this adapter when none is given. */
export function chooseTile(gpu: Gpu, m: number, n: number): MatmulTile {
  const tiles = gpu.isFallback ? SOFTWARE_TILES : GPU_TILES;
  const least = gpu.isFallback ? MIN_INVOCATIONS.software : MIN_INVOCATIONS.gpu;
  const fits = (t: MatmulTile) => Math.ceil(m / t.rows) * Math.ceil(n / t.cols) >= least;
  return tiles.find(fits) ?? tiles[tiles.length - 1];
}

/** Layout and epilogue of a `matmul` dispatch; every field is optional. */
export interface MatmulOptions {
  /** A is stored [K, M] (element (m, k) at `k · lda + m`) instead of [M, K]. */
  transA?: boolean;
  /** B is stored [N, K] (element (k, n) at `n · K + k`) instead of [K, N]. */
  transB?: boolean;
  /** Elements between consecutive rows of A as stored (default: its row length, K or M). */
  lda?: number;
  /** Element offset of A(0, 0) in `a` (default 0). */
  aOffset?: number;
  /** Factor on A·B (default 1). */
  alpha?: number;
  /** Bias added per column, [N]. */
  bias?: Tensor;
  /** Factor on the bias (default 1). */
  beta?: number;
  /** Apply `sqrt(2) · lrelu(·, 0.2)` last. */
  lrelu?: boolean;
  /** Tile per invocation (default `chooseTile`). */
  tile?: MatmulTile;
}

function _checkTile(tile: MatmulTile): void {
  for (const [name, v] of Object.entries(tile)) {
    if (!Number.isInteger(v) || v < 4 || v > MAX_TILE || v % 4 !== 0) {
      throw new RangeError(
        `matmul: tile ${name} is ${v}, expected a multiple of 4 up to ${MAX_TILE}`,
      );
    }
  }
}

function _checkSpan(what: string, t: Tensor, last: number): void {
  if (t.size < last) {
    throw new RangeError(`matmul: ${what} ${t.label} has ${t.size} values, expected >= ${last}`);
  }
  if (t.size < 4) {
    throw new RangeError(`matmul: ${what} ${t.label} has ${t.size} values, expected >= 4`);
  }
}

/**
 * Binds `C[m, n] = act(alpha · Σ_k A(m, k) · B(k, n) + beta · bias[n])`.
 * M and N come from `c`, K from `b`.
 * @param a A [M, K] (`transA`: [K, M]); with `lda` / `aOffset`, any tensor holding those rows
 * @param b B [K, N] (`transB`: [N, K])
 * @param c output C [M, N]
 * @example
 * ```ts ignore
 * submit(gpu, [matmul(gpu, a, w, y, { transB: true })]); // y = a · wᵀ
 * ```
 */
export function matmul(
  gpu: Gpu,
  a: Tensor,
  b: Tensor,
  c: Tensor,
  opts: MatmulOptions = {},
): Dispatch {
  const transA = opts.transA ?? false, transB = opts.transB ?? false;
  const tile = opts.tile ?? chooseTile(gpu, c.shape[0], c.shape[1] ?? 1);
  _checkTile(tile);
  c.expectShape([-1, -1], "matmul output");
  b.expectShape([-1, -1], "matmul B");
  const [m, n] = c.shape;
  const k = transB ? b.shape[1] : b.shape[0];
  b.expectShape(transB ? [n, k] : [k, n], "matmul B");
  if (m < 1 || n < 1 || k < 1) throw new RangeError(`matmul: empty product ${m}x${k}x${n}`);
  // llvmpipe silently stops a WGSL loop after 65535 trips; the K loop takes 4 k per trip.
  if (k > MAX_K) throw new RangeError(`matmul: K is ${k}, expected <= ${MAX_K}`);
  const aCols = transA ? m : k, aRows = transA ? k : m;
  const lda = opts.lda ?? aCols, aOffset = opts.aOffset ?? 0;
  if (opts.lda === undefined && opts.aOffset === undefined) {
    a.expectShape(transA ? [k, m] : [m, k], "matmul A");
  }
  if (lda < aCols) throw new RangeError(`matmul: lda is ${lda}, expected >= ${aCols}`);
  _checkSpan("A", a, aOffset + (aRows - 1) * lda + aCols);
  _checkSpan("B", b, k * n);
  if (opts.bias) opts.bias.expectShape([n], "matmul bias");
  const vecA = lda % 4 === 0 && aOffset % 4 === 0;
  const vecB = transB ? k % 4 === 0 : n % 4 === 0;
  return kernel.bind(
    gpu,
    [a, a, b, b, opts.bias ?? a, c], // an absent bias binds A, never read
    {
      m,
      n,
      k,
      lda,
      ldb: transB ? k : n,
      a_offset: aOffset,
      alpha: opts.alpha ?? 1,
      beta: opts.beta ?? 1,
    },
    [groups(Math.ceil(n / tile.cols), WORKGROUP), Math.ceil(m / tile.rows)],
    {
      TM: tile.rows,
      TN: tile.cols,
      TRANS_A: transA ? 1 : 0,
      TRANS_B: transB ? 1 : 0,
      VEC_A: vecA ? 1 : 0,
      VEC_B: vecB ? 1 : 0,
      HAS_BIAS: opts.bias ? 1 : 0,
      ACT: opts.lrelu ? 1 : 0,
      WG: WORKGROUP,
    },
  );
}
