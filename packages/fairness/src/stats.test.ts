import { describe, expect, it } from "vitest";
import { createRng } from "@recsys/core";
import { disparity, groupValues, quantile, testDisparity, type MetricColumns } from "./stats.ts";

const mean = (values: number[]): MetricColumns => ({ num: Float64Array.from(values), den: new Float64Array(values.length).fill(1), finish: (x) => x });

describe("disparity statistics", () => {
  it("computes group values, difference and ratio by hand", () => {
    // RMSE from per-user sums: group 0 = users 0,1 (se 4 over 2 ratings, 0 over 2) -> sqrt(4/4) = 1
    const rmse: MetricColumns = { num: Float64Array.from([4, 0, 8]), den: Float64Array.from([2, 2, 2]), finish: Math.sqrt };
    expect(groupValues(rmse, [[0, 1], [2]])).toEqual([1, 2]);
    expect(disparity([1, 2, 1.5])).toEqual({ difference: 1, ratio: 0.5 });
    expect(quantile([1, 2, 3, 4], 0.5)).toBe(2.5);
    expect(quantile([5, NaN, 1], 1)).toBe(5);
  });

  it("gives the exact permutation p-value of a perfect split and point CIs for constant groups", () => {
    // 3 zeros vs 3 ones: 2 of the C(6,3) = 20 label splits give difference 1, so p -> 0.1.
    const m = mean([0, 0, 0, 1, 1, 1]);
    const t = testDisparity(m, [[0, 1, 2], [3, 4, 5]], { bootstrap: 200, permutations: 4000 }, createRng(1));
    expect(t.difference).toBe(1);
    expect(t.pValue).toBeGreaterThan(0.08);
    expect(t.pValue).toBeLessThan(0.12);
    expect(t.differenceCi).toEqual([1, 1]);
    expect(t.groups.map((g) => g.ci)).toEqual([[0, 0], [1, 1]]);
  });

  it("is seeded: same seed, same result; another seed, another resample", () => {
    const rng = createRng(9);
    const m = mean(Array.from({ length: 80 }, () => rng.next()));
    const members = [Array.from({ length: 40 }, (_, i) => i), Array.from({ length: 40 }, (_, i) => 40 + i)];
    const a = testDisparity(m, members, { bootstrap: 300, permutations: 300 }, createRng(3));
    expect(testDisparity(m, members, { bootstrap: 300, permutations: 300 }, createRng(3))).toEqual(a);
    expect(testDisparity(m, members, { bootstrap: 300, permutations: 300 }, createRng(4)).differenceCi).not.toEqual(a.differenceCi);
    expect(a.differenceCi[0]).toBeLessThanOrEqual(a.difference);
    expect(a.differenceCi[1]).toBeGreaterThanOrEqual(a.difference);
  });
});
