import { describe, expect, it } from "vitest";
import { stackWeights, trainBlend } from "./blend.ts";
import { ENGINE_DEFAULTS } from "./options.ts";
import { knnScorer, trainKnn } from "./knn.ts";
import { ratingRange, scorerErrors } from "./scorer.ts";
import { splitRatings } from "./split.ts";
import { ML100K_LIKE, syntheticRatings } from "./synthetic.ts";
import { trainSgd } from "./sgd.ts";
import { factorScorer } from "./scorer.ts";
import { createRng } from "@recsys/core";

const { ratings, nUsers, nItems } = syntheticRatings({ ...ML100K_LIKE, users: 300, items: 200, ratings: 15_000, seed: 21 });
const { train, test } = splitRatings(ratings, nUsers, { mode: "random", fraction: 0.2, seed: 1 });
const range = ratingRange(ratings);

describe("item kNN on baseline residuals", () => {
  it("beats its own biases-only baseline on data with taste, and is deterministic", async () => {
    const knn = await trainKnn(train, nUsers, nItems, ENGINE_DEFAULTS.knn);
    const rmse = scorerErrors(knnScorer(knn), test, range).rmse;
    const baseline = scorerErrors(factorScorer(knn.baseline), test, range).rmse;
    expect(rmse).toBeLessThan(baseline - 0.01);
    const again = await trainKnn(train, nUsers, nItems, ENGINE_DEFAULTS.knn);
    expect(Buffer.from(again.neighbourSims.buffer)).toEqual(Buffer.from(knn.neighbourSims.buffer));
    expect(scorerErrors(knnScorer(again), test, range).rmse).toBe(rmse);
  });

  it("serves exactly what it predicts: table + biases = prediction", async () => {
    const s = knnScorer(await trainKnn(train, nUsers, nItems, ENGINE_DEFAULTS.knn));
    const { factors, userItemScores } = s.serving();
    for (const [u, i] of [[0, 0], [5, 17], [299, 199]] as const) {
      expect(factors.globalMean + factors.userBias[u]! + factors.itemBias[i]! + userItemScores![u * nItems + i]!).toBeCloseTo(s.raw(u, i), 4);
    }
  });
});

describe("blend", () => {
  it("stackWeights recovers a known linear mix", () => {
    const rng = createRng(3), n = 5000;
    const f = [0, 1, 2].map(() => Float64Array.from({ length: n }, () => 3 + rng.normal()));
    const target = Float64Array.from({ length: n }, (_, r) => 0.2 + 0.5 * f[0]![r]! + 0.3 * f[1]![r]! + 0.2 * f[2]![r]! + 0.01 * rng.normal());
    const w = stackWeights(f, target);
    [0.2, 0.5, 0.3, 0.2].forEach((expected, j) => expect(w[j]).toBeCloseTo(expected, 2));
  });

  it("is no worse than its MF member, serves what it predicts, and is deterministic", async () => {
    const p = { ...ENGINE_DEFAULTS.blend, factors: 8, epochs: 15 };
    const blend = await trainBlend(train, nUsers, nItems, p);
    const mf = await trainSgd(train, nUsers, nItems, p);
    expect(scorerErrors(blend, test, range).rmse).toBeLessThan(scorerErrors(factorScorer(mf), test, range).rmse + 0.002);
    const { factors: m, userItemScores } = blend.serving();
    let dot = 0;
    for (let f = 0; f < m.k; f++) dot += m.userFactors[5 * m.k + f]! * m.itemFactors[17 * m.k + f]!;
    expect(m.globalMean + m.userBias[5]! + m.itemBias[17]! + dot + userItemScores![5 * nItems + 17]!).toBeCloseTo(blend.raw(5, 17), 3);
    expect((await trainBlend(train, nUsers, nItems, p)).weights).toEqual(blend.weights);
  });
});
