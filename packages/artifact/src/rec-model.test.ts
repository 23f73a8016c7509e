import { mkdtemp, readFile, rm, writeFile, truncate, readdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { loadRecModel, predictRating, writeRecModel, type RecModelTensors } from "./rec-model.ts";
import type { ModelMetaInput } from "./write.ts";

function tinyModel(passed = true): { info: ModelMetaInput; tensors: RecModelTensors } {
  const info: ModelMetaInput = {
    engine: "sgd", hyperParams: { lr: 0.01 }, factors: 2, globalMean: 3.5,
    userIds: [7, 9], movieIds: ["a+1999", "b+2001", "c+2010"], groups: ["F:18-24"],
    metrics: { rmse: 0.9 }, gate: { metric: "rmse", threshold: 1, value: passed ? 0.9 : 1.2, passed },
    dataHash: "d41d8cd98f00b204e9800998ecf8427e", createdAt: "2026-01-01T00:00:00.000Z",
  };
  const tensors: RecModelTensors = {
    userFactors: new Float32Array([1, 0, 0, 1]), itemFactors: new Float32Array([0.5, 0, 0, 0.5, 1, 1]),
    userBias: new Float32Array([0.1, -0.1]), itemBias: new Float32Array([0, 0.2, -0.2]),
    seenOffsets: new Uint32Array([0, 1, 1]), seenItems: new Uint32Array([2]),
    itemPopularity: new Float32Array([3, 2, 1]), groupPopularity: new Float32Array([1, 2, 3]),
    sideUserIds: new Uint32Array([7]), sideUserGroups: new Uint8Array([0]),
  };
  return { info, tensors };
}

const root = await mkdtemp(join(tmpdir(), "artifact-"));
afterAll(() => rm(root, { recursive: true, force: true }));

async function written(passed = true): Promise<string> {
  const dir = join(await mkdtemp(join(root, "m-")), "model");
  const { info, tensors } = tinyModel(passed);
  await writeRecModel(dir, info, tensors);
  return dir;
}

describe("RecModel artifact", () => {
  it("round-trips factors, ids and predictions", async () => {
    const model = await loadRecModel(await written());
    expect(model.meta.movieIds).toEqual(["a+1999", "b+2001", "c+2010"]);
    expect(Array.from(model.itemFactors)).toEqual([0.5, 0, 0, 0.5, 1, 1]);
    // 3.5 + 0.1 + 0 + (1*0.5 + 0*0)
    expect(predictRating(model, 0, 0)).toBeCloseTo(4.1, 5);
  });

  it("clips predictions to the rating scale the model records, and to 1..5 when it records none (older models)", async () => {
    const { info, tensors } = tinyModel();
    // Row 1, item 2: 3.5 - 0.1 - 0.2 + (0*1 + 1*1) = 4.2; with a mean of 0.2 it is 0.9.
    const low = { ...info, globalMean: 0.2 };
    const half = join(await mkdtemp(join(root, "m-")), "model");
    await writeRecModel(half, { ...low, ratingScale: { min: 0.5, max: 5, step: 0.5 } }, tensors);
    expect(predictRating(await loadRecModel(half), 1, 2)).toBeCloseTo(0.9, 5);
    const old = join(await mkdtemp(join(root, "m-")), "model");
    await writeRecModel(old, low, tensors);
    const oldModel = await loadRecModel(old);
    expect(oldModel.meta.ratingScale).toBeUndefined();
    expect(predictRating(oldModel, 1, 2)).toBe(1);
    const tight = join(await mkdtemp(join(root, "m-")), "model");
    await writeRecModel(tight, { ...info, ratingScale: { min: 1, max: 4, step: 1 } }, tensors);
    expect(predictRating(await loadRecModel(tight), 1, 2)).toBe(4);
  });

  it("writes byte-identical files for the same content", async () => {
    const [a, b] = [await written(), await written()];
    for (const f of (await readdir(a)).sort()) expect(await readFile(join(b, f))).toEqual(await readFile(join(a, f)));
  });

  it("refuses a truncated tensor file", async () => {
    const dir = await written();
    await truncate(join(dir, "item_factors.f32"), 8);
    await expect(loadRecModel(dir)).rejects.toMatchObject({ code: "RECSYS_BAD_ARTIFACT", message: expect.stringMatching(/truncated/) });
  });

  it("refuses a flipped byte", async () => {
    const dir = await written();
    const bytes = await readFile(join(dir, "user_bias.f32"));
    bytes[0] = bytes[0]! ^ 0xff;
    await writeFile(join(dir, "user_bias.f32"), bytes);
    await expect(loadRecModel(dir)).rejects.toMatchObject({ code: "RECSYS_BAD_ARTIFACT", message: expect.stringMatching(/sha256/) });
  });

  it("refuses an edited model.json", async () => {
    const dir = await written();
    const meta = JSON.parse(await readFile(join(dir, "model.json"), "utf8"));
    meta.globalMean = 4;
    await writeFile(join(dir, "model.json"), JSON.stringify(meta));
    await expect(loadRecModel(dir)).rejects.toMatchObject({ message: expect.stringMatching(/modelHash/) });
  });

  it("refuses a model that failed the gate unless asked", async () => {
    const dir = await written(false);
    await expect(loadRecModel(dir)).rejects.toMatchObject({ message: expect.stringMatching(/quality gate/) });
    expect((await loadRecModel(dir, { allowGateFailed: true })).meta.gate.passed).toBe(false);
  });

  it("names the gate condition a refused model failed: the threshold or its baseline", async () => {
    const root = await mkdtemp(join(tmpdir(), "artifact-"));
    try {
      const { info, tensors } = tinyModel(false);
      const gate = { metric: "rmse", threshold: 1, value: 0.9, passed: false, baseline: 0.88, belowThreshold: true, noWorseThanBaseline: false };
      await writeRecModel(join(root, "m"), { ...info, gate }, tensors);
      await expect(loadRecModel(join(root, "m"))).rejects.toMatchObject({ message: expect.stringContaining("(rmse 0.9000 worse than its baseline 0.8800)") });
      await writeRecModel(join(root, "t"), { ...info, gate: { ...gate, value: 1.2, belowThreshold: false } }, tensors);
      await expect(loadRecModel(join(root, "t"))).rejects.toMatchObject({ message: expect.stringContaining("(rmse 1.2000 not below 1)") });
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});
