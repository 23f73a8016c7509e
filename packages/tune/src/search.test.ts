import { describe, expect, it } from "vitest";
import { syntheticRatings, ML100K_LIKE } from "@recsys/train";
import { tune, type TuneResult } from "./search.ts";
import type { Space } from "./space.ts";

const { ratings, nUsers, nItems } = syntheticRatings({ ...ML100K_LIKE, users: 200, items: 150, ratings: 6000, seed: 11 });
// lr 1e-5 barely moves the model off the global mean in a few epochs; 0.02 learns: a known optimum.
const space: Space = { lr: { values: [0.00001, 0.02] }, reg: { values: [0.05, 0.1] }, factors: { values: [4] }, epochs: { min: 2, max: 8 } };
const base = { engine: "sgd" as const, folds: 3, budgetSeconds: 3600, trials: 8, seed: 5, space };
const view = (r: TuneResult) => r.trials.map((t) => ({ id: t.id, config: t.config, epochs: t.epochs, foldRmse: t.foldRmse }));

describe("tune: random search with successive halving over seeded k-fold CV", () => {
  it("finds the known optimum, and halving keeps exactly the better half at each rung", async () => {
    const r = await tune(ratings, nUsers, nItems, base);
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
    const a = await tune(ratings, nUsers, nItems, { ...base, trials: 4 });
    const b = await tune(ratings, nUsers, nItems, { ...base, trials: 4, workers: 1 });
    expect(view(b)).toEqual(view(a));
    const c = await tune(ratings, nUsers, nItems, { ...base, trials: 4, seed: 6 });
    expect(view(c)).not.toEqual(view(a));
  });

  it("starts no fold job once the budget is spent (counted, not timed)", async () => {
    // The injected clock moves one second per look, and the search looks once per job it starts.
    let calls = 0;
    const r = await tune(ratings, nUsers, nItems, { ...base, budgetSeconds: 12, clock: () => 1000 * calls++ });
    expect(r.foldJobs).toBe(11);
    expect(r.trials).toHaveLength(3); // 3 folds each: the 4th configuration got 2 of its 3 folds
    expect(r.cutByBudget).toBeGreaterThan(0);
  });
});
