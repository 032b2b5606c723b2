/**
 * Paired comparison of two methods scored on the very same evaluation
 * episodes: the per-episode differences cancel the episode-to-episode
 * difficulty, so the test is much sharper than comparing two independent
 * confidence intervals.
 */
import { pairedDifference } from "./evaluate.ts";

/** Result of a paired test of mean(a − b) = 0 over episodes. */
export interface PairedTest {
  /** Episodes compared. */
  episodes: number;
  /** Mean per-episode difference a − b (accuracy units, 0..1). */
  mean: number;
  /** Half-width of its 95% confidence interval (1.96 standard errors). */
  ci95: number;
  /** Mean divided by its standard error. */
  z: number;
  /** Two-sided p-value from the normal approximation (sound for hundreds of episodes). */
  p: number;
  /** True when the 95% interval contains zero: the difference is within noise. */
  withinNoise: boolean;
}

/**
 * Complementary error function erfc(x) in float64: the Maclaurin series of
 * erf below |x| = 2.5, and the continued fraction
 * erfc(x) = e^(−x²)/√π · 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + ...)))) above,
 * evaluated from its 80th term back. Relative error is below 1e-12 in both
 * parts, far more than p-values need.
 */
export function erfc(x: number): number {
  if (Number.isNaN(x)) return NaN;
  if (x < 0) return 2 - erfc(-x);
  if (x < 2.5) {
    let term = x, sum = x;
    for (let n = 1; n < 100; n++) {
      term *= -(x * x) / n;
      const next = term / (2 * n + 1);
      sum += next;
      if (Math.abs(next) < 1e-17 * Math.abs(sum)) break;
    }
    return 1 - (2 / Math.sqrt(Math.PI)) * sum;
  }
  let f = x;
  for (let k = 80; k >= 1; k--) f = x + (k / 2) / f;
  return Math.exp(-x * x) / (Math.sqrt(Math.PI) * f);
}

/** Two-sided p-value of a standard-normal statistic z. */
export function twoSidedP(z: number): number {
  if (Number.isNaN(z)) return 1;
  if (!Number.isFinite(z)) return 0;
  return Math.min(1, erfc(Math.abs(z) / Math.SQRT2));
}

/**
 * Paired test over per-episode accuracies of two methods on the same episodes
 * (same order). Identical scores give a zero difference and p = 1.
 */
export function pairedTest(a: ArrayLike<number>, b: ArrayLike<number>): PairedTest {
  if (a.length !== b.length || a.length === 0) {
    throw new RangeError(
      `paired test needs two equal, non-empty episode lists; got ${a.length} and ${b.length}`,
    );
  }
  const d = pairedDifference(Float64Array.from(a), Float64Array.from(b));
  const se = d.ci95 / 1.96;
  const z = se > 0 ? d.mean / se : d.mean === 0 ? 0 : Math.sign(d.mean) * Infinity;
  return {
    episodes: a.length,
    mean: d.mean,
    ci95: d.ci95,
    z,
    p: twoSidedP(z),
    withinNoise: !d.significant,
  };
}
