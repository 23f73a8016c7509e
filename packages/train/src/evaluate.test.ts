import { afterAll, describe, expect, it } from "vitest";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadRecModel, writeRecModel } from "@recsys/artifact";
import { evaluateModel } from "./evaluate.ts";

const root = await mkdtemp(join(tmpdir(), "train-eval-"));
afterAll(() => rm(root, { recursive: true, force: true }));

/**
 * Hand-made model, k = 1: mean 3, user biases [0, 0.5], item biases 0, user factors [1, -1],
 * item factors a..d = [2, 1, 0, -1]. User 1 has seen movie a. Ranking scores (bias + dot):
 * user 1: a 2, b 1, c 0, d -1 -> top-2 without a = [b, c]; user 2: d 1, c 0 -> [d, c].
 */
async function tinyModel(itemPopularity = new Float32Array(4)) {
  const dir = join(root, "model");
  await writeRecModel(dir, {
    engine: "sgd", hyperParams: {}, factors: 1, globalMean: 3, userIds: [1, 2], movieIds: ["a", "b", "c", "d"], groups: [],
    metrics: {}, gate: { metric: "rmse", threshold: 1, value: 0.9, passed: true }, dataHash: "x", createdAt: "2026-01-01T00:00:00Z",
  }, {
    userFactors: Float32Array.of(1, -1), itemFactors: Float32Array.of(2, 1, 0, -1),
    userBias: Float32Array.of(0, 0.5), itemBias: new Float32Array(4),
    seenOffsets: Uint32Array.of(0, 1, 1), seenItems: Uint32Array.of(0),
    itemPopularity, groupPopularity: new Float32Array(0),
    sideUserIds: new Uint32Array(0), sideUserGroups: new Uint8Array(0),
  });
  return loadRecModel(dir);
}

describe("evaluateModel", () => {
  it("matches hand-computed RMSE, MAE, precision, recall, nDCG and coverage", async () => {
    const data = join(root, "data");
    await mkdir(data, { recursive: true });
    // Predictions (clipped): 1/b 4, 1/d 2, 1/c 3, 1/z 3 (unknown movie), 2/a 1.5, 2/d 4.5, 3/a 3 (unknown user).
    await writeFile(join(data, "ratings.csv"), [
      "user_id,movie_id,rating,time",
      "1,b,5,2026-01-02T00:00:00", "1,d,4,2026-01-02T00:00:00", "1,c,2,2026-01-02T00:00:00", "1,z,4,2026-01-02T00:00:00",
      "2,a,5,2026-01-02T00:00:00", "2,d,2,2026-01-02T00:00:00", "3,a,3,2026-01-02T00:00:00", "",
    ].join("\n"));
    const r = await evaluateModel(await tinyModel(), data, { topN: 2, relevantAt: 4 });
    // errors 1, 2, -1, 1, 3.5, -2.5, 0
    expect(r.ratings).toBe(7);
    expect(r.unknownRatings).toBe(2);
    expect(r.rmse).toBeCloseTo(Math.sqrt(25.5 / 7), 6);
    expect(r.mae).toBeCloseTo(11 / 7, 6);
    // user 1: relevant {b, d}, list [b, c]: 1 hit at rank 1. user 2: relevant {a}, list [d, c]: none.
    expect(r.rankedUsers).toBe(2);
    expect(r.relevantUsers).toBe(2);
    expect(r.precision).toBeCloseTo((1 / 2 + 0) / 2, 6);
    expect(r.recall).toBeCloseTo((1 / 2 + 0) / 2, 6);
    expect(r.ndcg).toBeCloseTo((1 / (1 + 1 / Math.log2(3)) + 0) / 2, 6);
    expect(r.coverage).toBeCloseTo(3 / 4, 6);
  });

  it("ranks with the popularity prior as the API does: score + W x ln(1 + popularity); ratings unchanged", async () => {
    const data = join(root, "data-prior");
    await mkdir(data, { recursive: true });
    await writeFile(join(data, "ratings.csv"), ["user_id,movie_id,rating,time", "1,b,5,2026-01-02T00:00:00", "1,d,4,2026-01-02T00:00:00", "2,a,5,2026-01-02T00:00:00", ""].join("\n"));
    // ln(1 + popularity) = [0, 0, 2, 3]: user 1 scores b 1, c 2, d 2 -> [c, d] (tie to the lower row), hit d at rank 2;
    // user 2 scores a -2, b -1, c 2, d 4 -> [d, c], relevant {a}: none.
    const model = await tinyModel(Float32Array.of(0, 0, Math.expm1(2), Math.expm1(3)));
    const plain = await evaluateModel(model, data, { topN: 2, relevantAt: 4 });
    const r = await evaluateModel(model, data, { topN: 2, relevantAt: 4, popularityPrior: 1 });
    expect(r.popularityPrior).toBe(1);
    expect(r.ndcg).toBeCloseTo((1 / Math.log2(3) / (1 + 1 / Math.log2(3)) + 0) / 2, 5);
    expect(plain.ndcg).toBeCloseTo((1 / (1 + 1 / Math.log2(3)) + 0) / 2, 6);
    expect(r.rmse).toBe(plain.rmse);
  });
});
