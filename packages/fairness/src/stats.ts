import type { Rng } from "@recsys/core";

/**
 * A group metric as a ratio of per-user sums, so any resample of users recomputes it in one
 * pass: value = finish(sum num / sum den). RMSE: num = squared errors, den = ratings, finish = sqrt;
 * MAE: absolute errors over ratings; nDCG/precision/recall: the user's value over 1 (users
 * without a relevant movie have den 0 and do not count).
 */
export interface MetricColumns {
  num: Float64Array;
  den: Float64Array;
  finish: (mean: number) => number;
}

/** The disparity between judged groups, as Fairlearn's MetricFrame: difference = max - min, ratio = min / max. */
export interface Disparity {
  difference: number;
  ratio: number;
}

export interface DisparityTest extends Disparity {
  differenceCi: [number, number];
  ratioCi: [number, number];
  /** Permutation test of the difference: share of label shuffles with a difference at least as large. */
  pValue: number;
  /** Indexes of the groups with the highest and the lowest value. */
  hi: number;
  lo: number;
  /** Per judged group: value and bootstrap 95% CI, in the order given. */
  groups: { value: number; ci: [number, number] }[];
}

/** Group values from per-user rows: members[g] holds row indexes. */
export function groupValues(m: MetricColumns, members: readonly ArrayLike<number>[]): number[] {
  return members.map((rows) => {
    let num = 0, den = 0;
    for (let j = 0; j < rows.length; j++) { num += m.num[rows[j]!]!; den += m.den[rows[j]!]!; }
    return den > 0 ? m.finish(num / den) : NaN;
  });
}

export function disparity(values: readonly number[]): Disparity {
  const max = Math.max(...values), min = Math.min(...values);
  return { difference: max - min, ratio: max > 0 ? min / max : 1 };
}

/** The q-quantile of a sample (linear interpolation between order statistics, NaNs dropped). */
export function quantile(sample: ArrayLike<number>, q: number): number {
  const s = Array.from(sample).filter((x) => !Number.isNaN(x)).sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const pos = (s.length - 1) * q, lo = Math.floor(pos), hi = Math.ceil(pos);
  return s[lo]! + (s[hi]! - s[lo]!) * (pos - lo);
}

const ci95 = (sample: ArrayLike<number>): [number, number] => [quantile(sample, 0.025), quantile(sample, 0.975)];

/**
 * Percentile bootstrap (users resampled with replacement within each group, group sizes kept)
 * of every group's value and of the contrast between the point estimate's highest group `hi`
 * and lowest group `lo`. The contrast keeps those two groups fixed: a resampled max - min would
 * always be >= 0 and biased upwards, so its interval could miss the estimate and never cover 0.
 */
export function bootstrap(m: MetricColumns, members: readonly ArrayLike<number>[], contrast: { hi: number; lo: number }, resamples: number, rng: Rng) {
  const diffs = new Float64Array(resamples), ratios = new Float64Array(resamples);
  const perGroup = members.map(() => new Float64Array(resamples));
  for (let b = 0; b < resamples; b++) {
    const values = members.map((rows, g) => {
      let num = 0, den = 0;
      for (let j = 0; j < rows.length; j++) {
        const r = rows[rng.int(rows.length)]!;
        num += m.num[r]!; den += m.den[r]!;
      }
      const v = den > 0 ? m.finish(num / den) : NaN;
      perGroup[g]![b] = v;
      return v;
    });
    const hi = values[contrast.hi]!, lo = values[contrast.lo]!;
    diffs[b] = hi - lo; ratios[b] = hi > 0 ? lo / hi : 1;
  }
  return { differenceCi: ci95(diffs), ratioCi: ci95(ratios), groupCis: perGroup.map(ci95) };
}

/**
 * Permutation test: group labels are shuffled among the pooled users (sizes kept) and the
 * difference recomputed; p = (1 + shuffles at least as extreme) / (1 + shuffles), never 0.
 * Only the smaller groups' places are drawn (a partial Fisher-Yates); the largest group gets the
 * rest, its sums by subtraction: a few times faster when one group dominates.
 */
export function permutationPValue(m: MetricColumns, members: readonly ArrayLike<number>[], observed: number, permutations: number, rng: Rng): number {
  const bySize = [...members].sort((a, b) => a.length - b.length);
  const pool = Uint32Array.from(bySize.flatMap((rows) => Array.from(rows)));
  const sizes = bySize.map((rows) => rows.length);
  const drawn = pool.length - sizes.at(-1)!;
  let totalNum = 0, totalDen = 0;
  for (const r of pool) { totalNum += m.num[r]!; totalDen += m.den[r]!; }
  const value = (num: number, den: number) => (den > 0 ? m.finish(num / den) : NaN);
  let extreme = 0;
  for (let p = 0; p < permutations; p++) {
    for (let j = 0; j < drawn; j++) {
      const k = j + rng.int(pool.length - j);
      const t = pool[j]!; pool[j] = pool[k]!; pool[k] = t;
    }
    let at = 0, restNum = totalNum, restDen = totalDen;
    const values = sizes.slice(0, -1).map((n) => {
      let num = 0, den = 0;
      for (let j = at; j < at + n; j++) { num += m.num[pool[j]!]!; den += m.den[pool[j]!]!; }
      at += n; restNum -= num; restDen -= den;
      return value(num, den);
    });
    values.push(value(restNum, restDen));
    // A tiny tolerance so ties in floating point count as "at least as large".
    if (disparity(values).difference >= observed - 1e-9) extreme++;
  }
  return (1 + extreme) / (1 + permutations);
}

/** Point estimate, bootstrap CIs and permutation p-value of the disparity between groups. */
export function testDisparity(m: MetricColumns, members: readonly ArrayLike<number>[], options: { bootstrap: number; permutations: number }, rng: Rng): DisparityTest {
  const values = groupValues(m, members);
  const point = disparity(values);
  const contrast = { hi: values.indexOf(Math.max(...values)), lo: values.indexOf(Math.min(...values)) };
  const boot = bootstrap(m, members, contrast, options.bootstrap, rng.fork("bootstrap"));
  const pValue = permutationPValue(m, members, point.difference, options.permutations, rng.fork("permutation"));
  return {
    ...point, ...contrast, differenceCi: boot.differenceCi, ratioCi: boot.ratioCi, pValue,
    groups: values.map((value, g) => ({ value, ci: boot.groupCis[g]! })),
  };
}
