import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadRecModel, type RecModel } from "@recsys/artifact";
import { ML100K_LIKE, trainAndGate, writeSyntheticDataset } from "@recsys/train";
import type { ApiServer } from "../src/index.ts";
import { ADMIN_TOKEN, startApi, tempDir } from "./helpers.ts";

// A model without a factor form (item kNN) is served through the same top-k path, from its
// precomputed user-item table, and swapped in while a factor model serves. So is an I-AutoRec
// model, whose factor form (decoder rows x movie codes) the API scores like any biased MF.
let api: ApiServer, url: string, mfDir: string, knnDir: string, knn: RecModel, autorecDir: string, autorec: RecModel;

beforeAll(async () => {
  const base = await tempDir("api-knn-");
  const data = join(base, "data"), models = join(base, "models");
  await writeSyntheticDataset(data, { ...ML100K_LIKE, users: 300, items: 200, ratings: 15_000, seed: 21 });
  mfDir = (await trainAndGate({ dataDir: data, outDir: join(models, "mf"), factors: 8, epochs: 10 })).dir;
  knnDir = (await trainAndGate({ dataDir: data, outDir: join(models, "knn"), engine: "knn", gateRmse: 2 })).dir;
  knn = await loadRecModel(knnDir);
  autorecDir = (await trainAndGate({ dataDir: data, outDir: join(models, "autorec"), engine: "autorec", factors: 20, epochs: 10, lr: 0.003, reg: 30, batchSize: 16 })).dir;
  autorec = await loadRecModel(autorecDir);
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
    expect((await reload(knnDir)).status).toBe(200);
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

const reload = (model: string) => fetch(`${url}/admin/reload`, {
  method: "POST", headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, "Content-Type": "application/json" }, body: JSON.stringify({ model }),
});

describe("an I-AutoRec artifact in the API", () => {
  it("passed the gate as an ordinary factor model: k = hidden units, no user-item table", () => {
    expect(autorec.meta.engine).toBe("autorec");
    expect(autorec.k).toBe(20);
    expect(autorec.meta.gate.passed).toBe(true);
    expect(autorec.userItemScores).toBeUndefined();
  });

  it("answers /recommend after a hot swap, ranked by item bias plus decoder row . movie code, never a seen movie", async () => {
    expect((await reload(autorecDir)).status).toBe(200);
    const k = autorec.k;
    for (const row of [3, 17, 60]) {
      const res = await fetch(`${url}/recommend/${autorec.meta.userIds[row]}`);
      expect(res.headers.get("x-model")).toBe(autorec.meta.modelHash);
      const ids = (await res.text()).trim().split(",");
      const seen = new Set(Array.from(autorec.seenItems.subarray(autorec.seenOffsets[row]!, autorec.seenOffsets[row + 1]!)).map((i) => autorec.meta.movieIds[i]));
      const score = (i: number) => { let s = autorec.itemBias[i]!; for (let f = 0; f < k; f++) s += autorec.userFactors[row * k + f]! * autorec.itemFactors[i * k + f]!; return s; };
      const expected = autorec.meta.movieIds.map((id, i) => ({ id, score: score(i) })).filter((m) => !seen.has(m.id)).sort((a, b) => b.score - a.score).slice(0, 20).map((m) => m.id);
      expect(ids).toEqual(expected);
    }
  });
});
