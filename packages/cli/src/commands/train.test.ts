import { afterAll, describe, expect, it } from "vitest";
import { access, cp, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { execFile } from "node:child_process";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ML100K_LIKE, writeSyntheticDataset } from "@recsys/train";
import { runCli } from "../main.ts";
import { captureIo } from "../../test/run-cli.ts";

const io = captureIo;

const root = await mkdtemp(join(tmpdir(), "train-cli-"));
afterAll(() => rm(root, { recursive: true, force: true }));
const small = { ...ML100K_LIKE, users: 150, items: 100, ratings: 5000, seed: 4 };
const data = join(root, "data"), noise = join(root, "noise");
await writeSyntheticDataset(data, small);
await writeSyntheticDataset(noise, { ...small, random: true });
const exists = (p: string) => access(p).then(() => true, () => false);

describe("recsys train / evaluate", () => {
  it("trains, passes the gate, and evaluates the model as JSON", async () => {
    const t = io(), model = join(root, "model");
    expect(await runCli(["train", "--data", data, "--out", model, "--factors", "8", "--epochs", "5", "--json"], t.io)).toBe(0);
    const s = JSON.parse(t.out());
    expect(s.gate.passed).toBe(true);
    expect(s.metrics.rmse).toBeLessThan(1);
    const e = io();
    expect(await runCli(["evaluate", "--model", model, "--data", data, "--json"], e.io)).toBe(0);
    const r = JSON.parse(e.out());
    expect(r.ratings).toBe(JSON.parse(await readFile(join(data, "manifest.json"), "utf8")).counts.ratings);
    expect(r.topN).toBe(20);
    for (const k of ["rmse", "mae", "precision", "recall", "ndcg", "coverage"]) expect(Number.isFinite(r[k])).toBe(true);
  });

  it("says in --json which TensorFlow.js backend trained a tfjs model (wasm here: tfjs-node has no native binary)", async () => {
    // Settings pinned for this 5k-rating set: the defaults (reg 0.1, tuned on 100k-385k ratings) overfit it and fail the gate.
    const t = io(), model = join(root, "tfjs");
    expect(await runCli(["train", "--data", data, "--out", model, "--engine", "tfjs", "--factors", "4", "--epochs", "10", "--batch-size", "32", "--lr", "0.005", "--reg", "0.2", "--json"], t.io)).toBe(0);
    expect(JSON.parse(t.out()).hyperParams.backend).toBe("wasm");
    expect(JSON.parse(await readFile(join(model, "model.json"), "utf8")).hyperParams.backend).toBe("wasm");
  });

  it("trains an I-AutoRec model with --engine autorec, passes the gate, and says so in --json", async () => {
    const t = io(), model = join(root, "autorec");
    expect(await runCli(["train", "--data", data, "--out", model, "--engine", "autorec", "--json"], t.io)).toBe(0);
    const s = JSON.parse(t.out());
    expect(s.engine).toBe("autorec");
    expect(s.gate.passed).toBe(true);
    expect(s.metrics.rmse).toBeLessThanOrEqual(s.metrics.baselineRmse);
    expect(JSON.parse(await readFile(join(model, "model.json"), "utf8")).factors).toBe(s.hyperParams.factors);
  });

  it("exits 3 from the real CLI process on unlearnable ratings and writes nothing deployable", async () => {
    const model = join(root, "bad");
    const cli = join(import.meta.dirname, "..", "main.ts");
    const { code, stderr } = await new Promise<{ code: number; stderr: string }>((resolve) => {
      execFile(process.execPath, ["--import", "tsx", cli, "train", "--data", noise, "--out", model, "--factors", "4", "--epochs", "3"], { timeout: 60_000 }, (err, _out, stderr) => {
        resolve({ code: (err as { code?: number } | null)?.code ?? 0, stderr });
      });
    });
    expect(code).toBe(3);
    expect(stderr).toMatch(/held-out RMSE 1\.\d+ is not below 1/);
    expect(await exists(model)).toBe(false);
    expect(await exists(`${model}.failed/model.json`)).toBe(true);
  });

  it("exits 3 on a model worse than its biases-only baseline, naming both figures and verdicts", async () => {
    const t = io(), model = join(root, "under-trained");
    const code = await runCli(["train", "--data", data, "--out", model, "--factors", "8", "--epochs", "1", "--lr", "0.0001", "--gate-rmse", "5"], t.io);
    expect(code).toBe(3);
    expect(t.err()).toMatch(/is below 5 \(ok\), worse than the biases-only baseline \d\.\d{4} on the same split \(FAILED\)/);
    expect(await exists(model)).toBe(false);
  });

  it("exits 2 with one line naming ratings.csv when it changed since ingest", async () => {
    const cut = join(root, "cut");
    await cp(data, cut, { recursive: true });
    const text = await readFile(join(cut, "ratings.csv"), "utf8");
    await writeFile(join(cut, "ratings.csv"), text.slice(0, text.lastIndexOf("\n", text.length - 2) + 1));
    const t = io();
    expect(await runCli(["train", "--data", cut, "--out", join(root, "m-cut")], t.io)).toBe(2);
    expect(t.err()).toMatch(/^recsys train: .*cut\/ratings\.csv: changed since ingest .*re-run 'recsys ingest'/);
    expect(t.err().trim().split("\n")).toHaveLength(1);
  });

  it("trains from --params, a flag overriding the file, and names a bad key's line (exit 2)", async () => {
    const params = join(root, "params.yaml");
    await writeFile(params, "train: {engine: sgd, factors: 4, epochs: 3, seed: 7}\ngate: {rmse: 1.5}\nserve: {exploration: 0.1}\n");
    const t = io();
    expect(await runCli(["train", "--data", data, "--out", join(root, "m-params"), "--params", params, "--epochs", "5", "--json"], t.io)).toBe(0);
    const s = JSON.parse(t.out());
    expect(s.hyperParams).toMatchObject({ factors: 4, epochs: 5, seed: 7 });
    expect(s.gate.threshold).toBe(1.5);
    await writeFile(params, "train:\n  engine: sgd\n  factor: 4\n");
    const bad = io();
    expect(await runCli(["train", "--data", data, "--out", join(root, "m-params2"), "--params", params], bad.io)).toBe(2);
    expect(bad.err()).toMatch(/^recsys train: .*params\.yaml:3: train\.factor: unknown key/);
  });

  it("refuses a gate-failed model in evaluate (exit 2)", async () => {
    const t = io();
    expect(await runCli(["evaluate", "--model", join(root, "bad.failed"), "--data", data], t.io)).toBe(2);
  });

  it.each([
    [["train", "--out", "x"]],
    [["train", "--data", data, "--out", "x", "--engine", "als"]],
    [["train", "--data", data, "--out", "x", "--split", "user"]],
    [["train", "--data", data, "--out", "x", "--factors", "0"]],
    [["train", "--data", data, "--out", "x", "--lr", "abc"]],
    [["train", "--data", data, "--out", "x", "--gate-rmse", "-1"]],
    [["train", "--data", data, "--out", "x", "--created-at", "yesterday"]],
    [["train", "--data", data, "--out", "x", "--bogus"]],
    [["train", "--data", join(root, "missing"), "--out", "x"]],
    [["evaluate", "--model", join(root, "model")]],
  ])("exits 2 on bad flags or inputs: %j", async (argv) => {
    const t = io();
    expect(await runCli(argv, t.io)).toBe(2);
    expect(t.err()).toMatch(/^recsys (train|evaluate): /);
  });
});
