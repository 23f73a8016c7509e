import { describe, expect, it } from "vitest";
import { trainSgd } from "./sgd.ts";
import { errorMetrics } from "./factors.ts";
import { splitRatings } from "./split.ts";
import { ML100K_LIKE, syntheticRatings } from "./synthetic.ts";

describe("trainSgd", () => {
  const { ratings, nUsers, nItems } = syntheticRatings({ ...ML100K_LIKE, users: 120, items: 90, ratings: 4000, seed: 11 });
  const { train, test } = splitRatings(ratings, nUsers, { mode: "random", fraction: 0.2, seed: 1 });
  const params = { factors: 6, epochs: 8, lr: 0.015, reg: 0.1, initStd: 0.1, seed: 3, batchSize: 1 };

  it("gives the same bytes on one thread and on a worker thread (DSGD blocks share no rows)", async () => {
    const one = await trainSgd(train, nUsers, nItems, params, {}, 1);
    const two = await trainSgd(train, nUsers, nItems, params, {}, 2);
    expect(Buffer.from(two.userFactors.buffer).equals(Buffer.from(one.userFactors.buffer))).toBe(true);
    expect(Buffer.from(two.itemFactors.buffer).equals(Buffer.from(one.itemFactors.buffer))).toBe(true);
    expect([...two.userBias]).toEqual([...one.userBias]);
    expect([...two.itemBias]).toEqual([...one.itemBias]);
  });

  it("learns: factors beat the biases-only model (k = 0) on held-out ratings, and the epoch loss falls", async () => {
    const losses: number[] = [];
    const mf = await trainSgd(train, nUsers, nItems, params, { onEpoch: (_, loss) => losses.push(loss) });
    const base = await trainSgd(train, nUsers, nItems, { ...params, factors: 0 });
    expect(losses).toHaveLength(8);
    expect(losses[7]!).toBeLessThan(losses[0]!);
    expect(errorMetrics(mf, test).rmse).toBeLessThan(errorMetrics(base, test).rmse);
  });
});
