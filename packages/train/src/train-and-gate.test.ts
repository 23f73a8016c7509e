import { afterAll, describe, expect, it } from "vitest";
import { access, cp, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadRecModel, predictRating } from "@recsys/artifact";
import { GateFailedError, md5File } from "@recsys/core";
import { trainAndGate } from "./train-and-gate.ts";
import { loadTrainingData } from "./data.ts";
import { evaluateModel } from "./evaluate.ts";
import { writeSyntheticDataset, ML100K_LIKE } from "./synthetic.ts";
import { ENGINE_DEFAULTS } from "./options.ts";

const root = await mkdtemp(join(tmpdir(), "train-gate-"));
afterAll(() => rm(root, { recursive: true, force: true }));

const small = { ...ML100K_LIKE, users: 200, items: 150, ratings: 8000, seed: 3 };
const data = join(root, "data");
await writeSyntheticDataset(data, small);
const exists = (p: string) => access(p).then(() => true, () => false);

async function filesOf(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const f of (await readdir(dir)).sort()) out[f] = (await readFile(join(dir, f))).toString("base64");
  return out;
}

describe("trainAndGate", () => {
  it("passes the gate on structured data, beats the biases baseline, and round-trips through loadRecModel", async () => {
    const out = join(root, "m1");
    const { passed, meta } = await trainAndGate({ dataDir: data, outDir: out, epochs: 10 });
    expect(passed).toBe(true);
    expect(meta.gate).toMatchObject({ metric: "rmse", threshold: 1, passed: true });
    expect(meta.metrics.rmse).toBeLessThan(meta.metrics.baselineRmse!);
    const model = await loadRecModel(out);
    expect(model.meta.modelHash).toBe(meta.modelHash);
    expect(model.k).toBe(ENGINE_DEFAULTS.sgd.factors);
    const manifest = JSON.parse(await readFile(join(data, "manifest.json"), "utf8"));
    expect(meta.dataHash).toBe(manifest.dataHash);
    expect(meta.createdAt).toBe(manifest.timeRange.last);
    // Every rated movie of a user is in the seen list; predictions read the same numbers back.
    const d = await loadTrainingData(data);
    const u = d.ratings.users[0]!, i = d.ratings.items[0]!;
    expect([...model.seenItems.subarray(model.seenOffsets[u]!, model.seenOffsets[u + 1]!)]).toContain(i);
    expect(Number.isFinite(predictRating(model, u, i))).toBe(true);
    expect(model.meta.groups.length).toBeGreaterThan(0);
    expect(model.sideUserIds.length).toBe(small.users);
  });

  it("trains on the manifest's rating scale: half stars read, predictions clipped to it, the scale recorded; off-scale ratings refused with file:line", async () => {
    const half = join(root, "half");
    await cp(data, half, { recursive: true });
    // Every rating half a star down (whole stars 1..5 become 0.5..4.5), and user 1, a grump, gives 0.5 to everything.
    const [header, ...rows] = (await readFile(join(half, "ratings.csv"), "utf8")).trimEnd().split("\n");
    const shifted = rows.map((l) => { const f = l.split(","); f[2] = f[0] === "1" ? "0.5" : String(Number(f[2]) - 0.5); return f.join(","); });
    await writeFile(join(half, "ratings.csv"), [header, ...shifted].join("\n") + "\n");
    const manifest = JSON.parse(await readFile(join(half, "manifest.json"), "utf8"));
    manifest.files["ratings.csv"] = await md5File(join(half, "ratings.csv"));
    await writeFile(join(half, "manifest.json"), JSON.stringify(manifest));
    // No recorded scale means the stream's 1..5: the first half star is refused, naming file and line.
    await expect(trainAndGate({ dataDir: half, outDir: join(root, "h0"), epochs: 10 })).rejects.toMatchObject({
      code: "RECSYS_BAD_DATASET", exitCode: 2, message: expect.stringMatching(/ratings\.csv:\d+: rating \d\.5 is off the rating scale 1\.\.5 step 1/),
    });
    await writeFile(join(half, "manifest.json"), JSON.stringify({ ...manifest, ratingScale: { min: 0.5, max: 5, step: 0.5 } }));
    const { meta } = await trainAndGate({ dataDir: half, outDir: join(root, "h1"), epochs: 10 });
    expect(meta.ratingScale).toEqual({ min: 0.5, max: 5, step: 0.5 });
    expect(meta.metrics.rmse).toBeLessThan(meta.metrics.baselineRmse!);
    const model = await loadRecModel(join(root, "h1"));
    let lowest = Infinity;
    for (let u = 0; u < model.nUsers; u++) for (let i = 0; i < model.nItems; i++) lowest = Math.min(lowest, predictRating(model, u, i));
    expect(lowest).toBeGreaterThanOrEqual(0.5);
    expect(lowest).toBeLessThan(1);
    // Evaluation clips to the model's scale too: the same held-out-free figure train reports on its own data.
    expect((await evaluateModel(model, half)).rmse).toBeLessThan(meta.metrics.baselineRmse!);
    // A 1..5 model cannot score half-star data: refused with file:line, not silently mis-clipped.
    await trainAndGate({ dataDir: data, outDir: join(root, "whole"), factors: 8, epochs: 15 });
    await expect(evaluateModel(await loadRecModel(join(root, "whole")), half)).rejects.toMatchObject({ code: "RECSYS_BAD_DATASET", exitCode: 2 });
  });

  // Models in these tests train long enough to beat the biases-only baseline, the gate's second condition.
  it("is deterministic: same data and seed give byte-identical artifacts; another seed does not", async () => {
    const opts = { dataDir: data, factors: 8, epochs: 15, seed: 5 };
    await trainAndGate({ ...opts, outDir: join(root, "d1") });
    await trainAndGate({ ...opts, outDir: join(root, "d2") });
    await trainAndGate({ ...opts, seed: 6, outDir: join(root, "d3") });
    const [a, b, c] = await Promise.all(["d1", "d2", "d3"].map((d) => filesOf(join(root, d))));
    expect(a).toEqual(b);
    expect(a!["user_factors.f32"]).not.toEqual(c!["user_factors.f32"]);
  });

  it("fails the gate on random ratings: GateFailedError (exit 3), no deployable dir, the rejected model kept in .failed", async () => {
    const noise = join(root, "noise");
    await writeSyntheticDataset(noise, { ...small, random: true });
    const out = join(root, "m-bad");
    const err = await trainAndGate({ dataDir: noise, outDir: out, factors: 8, epochs: 3 }).catch((e) => e);
    expect(err.code).toBe("RECSYS_GATE_FAILED");
    expect(err.exitCode).toBe(3);
    expect(err).toBeInstanceOf(GateFailedError);
    expect(err.dir).toBe(`${out}.failed`);
    expect(err.meta.gate.passed).toBe(false);
    expect(await exists(out)).toBe(false);
    await expect(loadRecModel(`${out}.failed`)).rejects.toMatchObject({ code: "RECSYS_BAD_ARTIFACT" });
    const kept = await loadRecModel(`${out}.failed`, { allowGateFailed: true });
    expect(kept.meta.gate.passed).toBe(false);
    expect(kept.meta.gate.value).toBeGreaterThan(1);
  });

  it("fails a model worse than its biases-only baseline, however lax the threshold; model.json holds both figures and verdicts", async () => {
    const out = join(root, "under-trained");
    // lr 1e-4 for one epoch leaves the model near its initial state: well below 5, well above its baseline.
    const err = await trainAndGate({ dataDir: data, outDir: out, factors: 8, epochs: 1, lr: 0.0001, gateRmse: 5 }).catch((e) => e);
    expect(err).toBeInstanceOf(GateFailedError);
    expect(err.exitCode).toBe(3);
    expect(err.message).toMatch(/held-out RMSE \d\.\d{4} is below 5 \(ok\), worse than the biases-only baseline \d\.\d{4} on the same split \(FAILED\)/);
    expect(await exists(out)).toBe(false);
    const { gate, metrics } = (await loadRecModel(`${out}.failed`, { allowGateFailed: true })).meta;
    expect(gate).toEqual({
      metric: "rmse", threshold: 5, value: metrics.rmse, baseline: metrics.baselineRmse,
      belowThreshold: true, noWorseThanBaseline: false, passed: false,
    });
    expect(gate.value).toBeGreaterThan(gate.baseline!);
  });

  it("fails a diverged model whose held-out RMSE is NaN", async () => {
    const err = await trainAndGate({ dataDir: data, outDir: join(root, "diverged"), factors: 8, epochs: 3, lr: 10, gateRmse: 5 }).catch((e) => e);
    expect(err.exitCode).toBe(3);
    expect(err.meta.gate).toMatchObject({ value: NaN, belowThreshold: false, noWorseThanBaseline: false, passed: false });
    expect(await exists(join(root, "diverged"))).toBe(false);
  });

  it("refuses a dataset whose ratings.csv was cut at a line boundary since ingest (exit 2, naming the file)", async () => {
    const cut = join(root, "cut");
    await cp(data, cut, { recursive: true });
    const lines = (await readFile(join(cut, "ratings.csv"), "utf8")).split("\n");
    await writeFile(join(cut, "ratings.csv"), lines.slice(0, lines.length / 2).join("\n") + "\n");
    const err = await trainAndGate({ dataDir: cut, outDir: join(root, "m-cut"), factors: 8, epochs: 15 }).catch((e) => e);
    expect(err).toMatchObject({ code: "RECSYS_DATASET_CHANGED", exitCode: 2 });
    expect(err.message).toContain(join(cut, "ratings.csv"));
    expect(err.message).toContain("re-run 'recsys ingest'");
    expect(await exists(join(root, "m-cut"))).toBe(false);
    expect(await exists(join(root, "m-cut.failed"))).toBe(false);
  });

  it("a stricter --gate-rmse turns a pass into a failure", async () => {
    const err = await trainAndGate({ dataDir: data, outDir: join(root, "strict"), factors: 4, epochs: 2, gateRmse: 0.5 }).catch((e) => e);
    expect(err.exitCode).toBe(3);
    expect(await exists(join(root, "strict"))).toBe(false);
  });

  it("splits by time or takes a held-out dataset", async () => {
    const byTime = await trainAndGate({ dataDir: data, outDir: join(root, "t"), split: "time", factors: 8, epochs: 15 });
    expect(byTime.meta.hyperParams.split).toBe("time");
    // A held-out directory needs only ratings.csv; here the first 1000 ratings plus one of an unknown user.
    const later = join(root, "later");
    await mkdir(later);
    const lines = (await readFile(join(data, "ratings.csv"), "utf8")).split("\n").slice(0, 1001);
    await writeFile(join(later, "ratings.csv"), [...lines, "999999,movie+1,4,2026-09-01T00:00:00"].join("\n") + "\n");
    const held = await trainAndGate({ dataDir: data, holdoutDir: later, outDir: join(root, "h"), factors: 8, epochs: 15 });
    expect(held.meta.metrics.heldOutRatings).toBe(1001);
    expect(held.meta.metrics.trainRatings).toBe((await loadTrainingData(data)).ratings.length);
  });

  it("uses the watch signal as SVD++ implicit feedback when asked (sgd only), folded into plain MF factors", async () => {
    const { meta } = await trainAndGate({ dataDir: data, outDir: join(root, "pp"), implicit: "svdpp", factors: 8, epochs: 5 });
    expect(meta.hyperParams.implicit).toBe("svdpp");
    expect(meta.gate.passed).toBe(true);
    expect((await loadRecModel(join(root, "pp"))).userFactors.length).toBe(meta.userIds.length * 8);
    await expect(trainAndGate({ dataDir: data, outDir: join(root, "pp2"), implicit: "svdpp", engine: "tfjs" })).rejects.toMatchObject({ exitCode: 2 });
  });

  it("trains with the tfjs engine on its wasm backend here, records it, beats the baseline, and is deterministic", async () => {
    const lines: string[] = [];
    const flags = { dataDir: data, engine: "tfjs" as const, factors: 8, epochs: 6, batchSize: 64, seed: 5 };
    const { meta } = await trainAndGate({ ...flags, outDir: join(root, "tf") }, { log: (l) => lines.push(l) });
    expect(meta.engine).toBe("tfjs");
    // tfjs-node's native library cannot be fetched on these machines; the WebAssembly backend
    // (a dependency, no download) is the next choice, and the artifact says which one ran.
    expect(meta.hyperParams.backend).toBe("wasm");
    expect(JSON.parse(await readFile(join(root, "tf", "model.json"), "utf8")).hyperParams.backend).toBe("wasm");
    expect(meta.gate.passed).toBe(true);
    expect(meta.metrics.rmse).toBeLessThan(meta.metrics.baselineRmse!);
    const model = await loadRecModel(join(root, "tf"));
    expect(model.userFactors.length).toBe(model.nUsers * 8);
    // The start line, and at most one notice about the TensorFlow.js backend.
    expect(lines[0]).toMatch(/^train: tfjs, \d+ epochs on \d+ ratings/);
    expect(lines.length).toBeLessThanOrEqual(2);
    await trainAndGate({ ...flags, outDir: join(root, "tf-again") });
    expect(await filesOf(join(root, "tf-again"))).toEqual(await filesOf(join(root, "tf")));
  });
});
