import { describe, expect, it } from "vitest";
import { syntheticRatings, ML100K_LIKE } from "@recsys/train";
import { chooseBest, tune, type Trial, type TuneResult } from "./search.ts";
import type { Space } from "./space.ts";

const world = { name: "a", ...syntheticRatings({ ...ML100K_LIKE, users: 200, items: 150, ratings: 6000, seed: 11 }) };
// lr 1e-5 barely moves the model off the global mean in a few epochs; 0.02 learns: a known optimum.
const space: Space = { lr: { values: [0.00001, 0.02] }, reg: { values: [0.05, 0.1] }, factors: { values: [4] }, epochs: { min: 2, max: 8 } };
const base = { engine: "sgd" as const, folds: 3, budgetSeconds: 3600, trials: 8, seed: 5, space };
const view = (r: TuneResult) => r.trials.map((t) => ({ id: t.id, config: t.config, epochs: t.epochs, foldRmse: t.foldRmse }));

describe("tune: random search with successive halving over seeded k-fold CV", () => {
  it("finds the known optimum, and halving keeps exactly the better half at each rung", async () => {
    const r = await tune([world], base);
    expect(r.rungs).toEqual([2, 4, 8]);
    expect(r.best!.config.lr).toBe(0.02);
    expect(r.best!.meanRmse).toBeLessThan(r.trials.find((t) => t.config.lr === 0.00001)!.meanRmse - 0.05);
    const at = (e: number) => r.trials.filter((t) => t.epochs === e).sort((a, b) => a.meanRmse - b.meanRmse);
    expect([at(2).length, at(4).length, at(8).length]).toEqual([4, 2, 1].map((n) => n * 2)); // two brackets of 4
    for (const [from, to] of [[2, 4], [4, 8]] as const) {
      for (const bracket of [0, 1]) {
        const prev = at(from).filter((t) => t.bracket === bracket), next = at(to).filter((t) => t.bracket === bracket);
        expect(next.map((t) => t.id).sort()).toEqual(prev.slice(0, prev.length / 2).map((t) => t.id).sort());
      }
    }
    for (const t of r.trials) expect(t.foldRmse).toHaveLength(3);
  });

  it("gives the same trials for the same seed, on 2 workers or 1", async () => {
    const a = await tune([world], { ...base, trials: 4 });
    const b = await tune([world], { ...base, trials: 4, workers: 1 });
    expect(view(b)).toEqual(view(a));
    const c = await tune([world], { ...base, trials: 4, seed: 6 });
    expect(view(c)).not.toEqual(view(a));
  });

  it("starts no fold job once the budget is spent (counted, not timed)", async () => {
    // The injected clock moves one second per look, and the search looks once per job it starts.
    let calls = 0;
    const r = await tune([world], { ...base, budgetSeconds: 12, clock: () => 1000 * calls++ });
    expect(r.foldJobs).toBe(11);
    expect(r.trials).toHaveLength(3); // 3 folds each: the 4th configuration got 2 of its 3 folds
    expect(r.cutByBudget).toBeGreaterThan(0);
  });

  it("tunes on several data sets at once: the objective is the mean of their CV RMSEs, each measured as alone", async () => {
    const other = { name: "b", ...syntheticRatings({ ...ML100K_LIKE, users: 150, items: 120, ratings: 5000, seed: 12 }) };
    const o = { ...base, rankUsers: 50 };
    const [both, a, b] = await Promise.all([tune([world, other], o), tune([world], o), tune([other], o)]);
    expect(both.data).toEqual(["a", "b"]);
    expect(both.best!.config.lr).toBe(0.02);
    for (const t of both.trials) {
      const alone = [a, b].map((r) => r.trials.find((x) => x.id === t.id && x.epochs === t.epochs));
      if (alone.some((x) => !x)) continue; // halving may keep other configurations on one data set alone
      expect(t.perData.map((d) => d.meanRmse)).toEqual(alone.map((x) => x!.meanRmse));
      expect(t.perData.map((d) => d.ndcg)).toEqual(alone.map((x) => x!.ndcg));
      expect(t.meanRmse).toBeCloseTo((alone[0]!.meanRmse + alone[1]!.meanRmse) / 2, 12);
      expect(t.foldRmse).toHaveLength(2 * base.folds);
    }
    for (const t of both.trials) for (const d of t.perData) expect(d.ndcg).toBeGreaterThan(0);
  });

  it("without ranked users, trials carry no nDCG and the lowest RMSE is the choice", async () => {
    const r = await tune([world], { ...base, trials: 4, rankUsers: 0 });
    expect(r.trials.every((t) => t.ndcg === null)).toBe(true);
    expect(r.best).toBe(r.lowestRmse);
  });
});

describe("chooseBest: RMSE first, ranking when RMSE ties (within one standard error of the lowest, per data set)", () => {
  const score = (name: string, foldRmse: number[]) => {
    const meanRmse = foldRmse.reduce((s, x) => s + x, 0) / foldRmse.length;
    return { name, foldRmse, meanRmse, spread: 0, ndcg: null, recall: null };
  };
  const trial = (id: number, sets: number[][], ndcg: number | null): Trial => {
    const perData = sets.map((folds, j) => score(`d${j}`, folds));
    const meanRmse = perData.reduce((s, d) => s + d.meanRmse, 0) / perData.length;
    return { id, bracket: 0, config: {}, epochs: 10, foldRmse: sets.flat(), meanRmse, spread: 0, ndcg, perData, seconds: 0 };
  };
  // Mean 0.8524; sample deviation 0.00559 over 5 folds: standard error 0.0025.
  const folds = [0.850, 0.860, 0.855, 0.845, 0.852];
  const lowest = trial(0, [folds], 0.05);

  it("picks the better ranking among trials within one standard error of the lowest RMSE", () => {
    const tied = trial(1, [folds.map((x) => x + 0.002)], 0.09); // 0.002 above: a tie
    const { best, tied: candidates } = chooseBest([lowest, tied]);
    expect(best).toBe(tied);
    expect(candidates).toEqual([lowest, tied]);
  });

  it("keeps the lowest RMSE when the other is more than a standard error above it, however well it ranks", () => {
    const worse = trial(1, [folds.map((x) => x + 0.003)], 0.30);
    expect(chooseBest([worse, lowest]).best).toBe(lowest);
  });

  it("with two data sets, a trial better on one but clearly worse on the other is no tie", () => {
    const other = [0.860, 0.862, 0.861, 0.859, 0.863]; // standard error 0.0007
    const low = trial(0, [folds, other], 0.05);
    const mixed = trial(1, [folds.map((x) => x - 0.004), other.map((x) => x + 0.0045)], 0.30); // a mean just above the lowest, clearly worse on the second
    const close = trial(2, [folds.map((x) => x + 0.001), other.map((x) => x + 0.0005)], 0.08);
    expect(chooseBest([low, mixed, close]).tied).toEqual([low, close]);
    expect(chooseBest([low, mixed, close]).best).toBe(close);
  });

  it("falls back to the lowest RMSE without ranking figures, and returns nothing for no trials", () => {
    const tied = trial(1, [folds.map((x) => x + 0.002)], null);
    expect(chooseBest([{ ...lowest, ndcg: null }, tied]).best!.id).toBe(0);
    expect(chooseBest([]).best).toBeNull();
  });
});
