/** A 2-D workgroup grid for kernels that fold `gid.x + gid.y * stride_x` into a flat index. */

const MAX_GROUPS = 65535;

/** Grid and `stride_x` (in invocations) covering `items` invocations of workgroups of `wg`. */
export function flatGrid(items: number, wg = 64): { grid: [number, number]; strideX: number } {
  const needed = Math.max(1, Math.ceil(items / wg));
  const gx = Math.min(needed, MAX_GROUPS);
  return { grid: [gx, Math.ceil(needed / gx)], strideX: gx * wg };
}
