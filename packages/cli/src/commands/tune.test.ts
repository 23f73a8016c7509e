import { afterAll, describe, expect, it } from "vitest";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ML100K_LIKE, readParamsFile, writeSyntheticDataset } from "@recsys/train";
import { runCli } from "../main.ts";
import { captureIo as io } from "../../test/run-cli.ts";

const root = await mkdtemp(join(tmpdir(), "tune-cli-"));
afterAll(() => rm(root, { recursive: true, force: true }));
const data = join(root, "data");
await writeSyntheticDataset(data, { ...ML100K_LIKE, users: 120, items: 80, ratings: 3000, seed: 3 });
const space = join(root, "space.yaml");
await writeFile(space, "lr: {values: [0.02, 0.00001]}\nfactors: {values: [4]}\nepochs: {min: 2, max: 4}\n");

describe("recsys tune", () => {
  it("prints the trials, writes the best to params.yaml, and train --params trains with it", async () => {
    const out = join(root, "params.yaml"), t = io();
    expect(await runCli(["tune", "--data", data, "--space", space, "--folds", "3", "--trials", "4", "--out", out], t.io)).toBe(0);
    expect(t.out()).toMatch(/mean RMSE\s+spread\s+nDCG@20\s+seconds/);
    expect(t.out()).toMatch(/best: trial \d, 3-fold CV RMSE 0\.\d{4}/);
    const params = await readParamsFile(out);
    expect(params.train).toMatchObject({ engine: "sgd", lr: 0.02, factors: 4, epochs: 4, seed: 42 });
    expect(params.gate).toEqual({ rmse: 1 });
    const tr = io();
    expect(await runCli(["train", "--data", data, "--out", join(root, "model"), "--params", out, "--json"], tr.io)).toBe(0);
    expect(JSON.parse(tr.out()).hyperParams).toMatchObject({ lr: 0.02, factors: 4, epochs: 4 });
  });

  it("tunes on two data sets at once: a column each, their mean as the objective, both named in params.yaml", async () => {
    const second = join(root, "data2"), out = join(root, "both.yaml"), t = io();
    await writeSyntheticDataset(second, { ...ML100K_LIKE, users: 100, items: 70, ratings: 2500, seed: 4 });
    expect(await runCli(["tune", "--data", data, "--data", second, "--space", space, "--folds", "2", "--trials", "2", "--out", out, "--json"], t.io)).toBe(0);
    const summary = JSON.parse(t.out());
    expect(summary.data).toEqual([data, second]);
    const best = summary.best;
    expect(best.perData.map((d: { name: string }) => d.name)).toEqual([data, second]);
    expect(best.meanRmse).toBeCloseTo((best.perData[0].meanRmse + best.perData[1].meanRmse) / 2, 10);
    expect(await readFile(out, "utf8")).toMatch(new RegExp(`best of \\d+ trials on ${data} \\+ ${second}, 2-fold CV RMSE`));
    const text = io();
    expect(await runCli(["tune", "--data", data, "--data", second, "--space", space, "--folds", "2", "--trials", "2", "--out", out], text.io)).toBe(0);
    expect(text.out()).toMatch(new RegExp(`mean RMSE\\s+RMSE ${data}\\s+RMSE ${second}\\s+spread`));
  });

  it("never replaces a params file recsys did not write without --force (exit 2)", async () => {
    const mine = join(root, "mine.yaml");
    await writeFile(mine, "train: {engine: sgd}\nserve: {exploration: 0.2}\n");
    const t = io();
    expect(await runCli(["tune", "--data", data, "--space", space, "--folds", "2", "--trials", "1", "--out", mine], t.io)).toBe(2);
    expect(t.err()).toMatch(/mine\.yaml: is a file recsys did not write.*--force/);
    expect(await readFile(mine, "utf8")).toBe("train: {engine: sgd}\nserve: {exploration: 0.2}\n");
    const f = io();
    expect(await runCli(["tune", "--data", data, "--space", space, "--folds", "2", "--trials", "1", "--out", mine, "--force"], f.io)).toBe(0);
    expect((await readParamsFile(mine)).serve).toEqual({ exploration: 0.2 });
  });

  it("exits 2 naming the line of a bad key in --space", async () => {
    const bad = join(root, "bad-space.yaml");
    await writeFile(bad, "lr: {values: [0.01]}\nlearning: {min: 1, max: 2}\n");
    const t = io();
    expect(await runCli(["tune", "--data", data, "--space", bad], t.io)).toBe(2);
    expect(t.err()).toMatch(/^recsys tune: .*bad-space\.yaml:2: learning: unknown key/);
  });
});
