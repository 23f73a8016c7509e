import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadRecModel, type RecModel } from "@recsys/artifact";
import { ML100K_LIKE, trainAndGate, writeSyntheticDataset } from "@recsys/train";
import type { ApiServer } from "../src/index.ts";
import { ADMIN_TOKEN, startApi, tempDir } from "./helpers.ts";

// A model without a factor form (item kNN) is served through the same top-k path, from its
// precomputed user-item table, and swapped in while a factor model serves.
let api: ApiServer, url: string, mfDir: string, knnDir: string, knn: RecModel;

beforeAll(async () => {
  const base = await tempDir("api-knn-");
  const data = join(base, "data"), models = join(base, "models");
  await writeSyntheticDataset(data, { ...ML100K_LIKE, users: 300, items: 200, ratings: 15_000, seed: 21 });
  mfDir = (await trainAndGate({ dataDir: data, outDir: join(models, "mf"), factors: 8, epochs: 10 })).dir;
  knnDir = (await trainAndGate({ dataDir: data, outDir: join(models, "knn"), engine: "knn", gateRmse: 2 })).dir;
  knn = await loadRecModel(knnDir);
  ({ api, url } = await startApi({ modelDir: mfDir, logDir: join(base, "logs") }));
}, 120_000);
afterAll(async () => { await api?.close(); });

describe("a kNN artifact in the API", () => {
  it("is a factor-free artifact carrying its user-item table", () => {
    expect(knn.meta.engine).toBe("knn");
    expect(knn.k).toBe(0);
    expect(knn.userItemScores).toHaveLength(knn.nUsers * knn.nItems);
  });

  it("answers /recommend after a hot swap, ranked by biases plus the table, never a seen movie", async () => {
    const before = await fetch(`${url}/recommend/${knn.meta.userIds[3]}`);
    expect(before.headers.get("x-model")).not.toBe(knn.meta.modelHash);
    const r = await fetch(`${url}/admin/reload`, {
      method: "POST", headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, "Content-Type": "application/json" }, body: JSON.stringify({ model: knnDir }),
    });
    expect(r.status).toBe(200);
    for (const row of [3, 17, 60]) {
      const res = await fetch(`${url}/recommend/${knn.meta.userIds[row]}`);
      expect(res.headers.get("x-model")).toBe(knn.meta.modelHash);
      const ids = (await res.text()).trim().split(",");
      const seen = new Set(Array.from(knn.seenItems.subarray(knn.seenOffsets[row]!, knn.seenOffsets[row + 1]!)).map((i) => knn.meta.movieIds[i]));
      const expected = knn.meta.movieIds.map((id, i) => ({ id, score: knn.itemBias[i]! + knn.userItemScores![row * knn.nItems + i]! }))
        .filter((m) => !seen.has(m.id)).sort((a, b) => b.score - a.score).slice(0, 20).map((m) => m.id);
      expect(ids).toEqual(expected);
    }
  });
});
