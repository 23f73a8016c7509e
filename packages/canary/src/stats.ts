/**
 * The statistics the verdict rests on, small enough to check by hand (see stats.test.ts).
 */

/** z for a two-sided 95 % interval. */
export const Z95 = 1.959963984540054;

/**
 * Nearest-rank quantile of ascending `sorted` values: the smallest observed value with at
 * least a `q` share of the data at or below it. An observed latency, never an interpolation,
 * so "p99 = 812 ms" is a request that really took 812 ms. NaN for no data.
 *
 *     quantileSorted(Float64Array.from({ length: 100 }, (_, i) => i + 1), 0.99) // 99
 */
export function quantileSorted(sorted: ArrayLike<number>, q: number): number {
  const n = sorted.length;
  if (n === 0) return NaN;
  const rank = Math.max(1, Math.ceil(q * n - 1e-9));
  return sorted[Math.min(rank, n) - 1]!;
}

/** Complementary error function (Numerical Recipes' Chebyshev fit, relative error < 1.2e-7). */
function erfc(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const r = t * Math.exp(-z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 +
    t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))));
  return x >= 0 ? r : 2 - r;
}

/** Standard normal cumulative distribution. */
export function normalCdf(z: number): number {
  return 0.5 * erfc(-z / Math.SQRT2);
}

/**
 * Wilson score interval for a proportion: stays inside [0, 1] and keeps sensible width at
 * small counts and at rates near 0, where follow rates live. Null for n = 0.
 *
 *     wilsonInterval(10, 100) // [0.0552, 0.1744]
 */
export function wilsonInterval(successes: number, n: number, z = Z95): [number, number] | null {
  if (n === 0) return null;
  const p = successes / n;
  const z2 = z * z;
  const centre = (p + z2 / (2 * n)) / (1 + z2 / n);
  const half = (z / (1 + z2 / n)) * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n));
  return [Math.max(0, centre - half), Math.min(1, centre + half)];
}

export interface TwoProportionTest {
  /** Canary rate minus baseline rate. */
  diff: number;
  /** 95 % interval of `diff` (unpooled Wald). */
  ci95: [number, number];
  /** Pooled-variance z statistic; negative when the canary is lower. */
  z: number;
  /** One-sided p-value for "the canary's rate is lower than the baseline's". */
  pValue: number;
}

/**
 * Two-proportion z-test of canary (x1 of n1) against baseline (x2 of n2), one-sided towards
 * "canary worse". The z uses the pooled rate (the null hypothesis says the rates are equal);
 * the interval uses each arm's own rate. Null when an arm is empty; z = 0 and p = 0.5 when
 * both arms have the same all-or-nothing rate (no variance to test against).
 *
 *     twoProportionTest(45, 500, 60, 500) // { diff: -0.03, z: -1.547, pValue: 0.0609, ... }
 */
export function twoProportionTest(x1: number, n1: number, x2: number, n2: number): TwoProportionTest | null {
  if (n1 === 0 || n2 === 0) return null;
  const p1 = x1 / n1;
  const p2 = x2 / n2;
  const diff = p1 - p2;
  const pooled = (x1 + x2) / (n1 + n2);
  const sePooled = Math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2));
  const z = sePooled === 0 ? 0 : diff / sePooled;
  const se = Math.sqrt((p1 * (1 - p1)) / n1 + (p2 * (1 - p2)) / n2);
  return { diff, ci95: [diff - Z95 * se, diff + Z95 * se], z, pValue: sePooled === 0 ? 0.5 : normalCdf(z) };
}
