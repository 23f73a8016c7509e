import { afterAll, describe, expect, it } from "vitest";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readParamsFile, withParamsFile } from "./params-file.ts";

const root = await mkdtemp(join(tmpdir(), "params-file-"));
afterAll(() => rm(root, { recursive: true, force: true }));
let n = 0;
async function file(text: string): Promise<string> {
  const path = join(root, `params-${n++}.yaml`);
  await writeFile(path, text);
  return path;
}
async function failure(text: string): Promise<{ code: string; exitCode: number; message: string }> {
  return readParamsFile(await file(text)).then(() => { throw new Error("expected a refusal"); }, (err) => err);
}

describe("params.yaml", () => {
  it("reads the pipeline's layout, and flags given override the file", async () => {
    const path = await file("train:   {engine: sgd, factors: 100, epochs: 20, lr: 0.01, reg: 0.1, seed: 42}\ngate:    {rmse: 1.0}\nserve:   {exploration: 0.1}\n");
    const params = await readParamsFile(path);
    expect(params.serve?.exploration).toBe(0.1);
    const options = withParamsFile(params, { reg: 0.3, epochs: undefined, engine: undefined });
    expect(options).toMatchObject({ engine: "sgd", factors: 100, epochs: 20, lr: 0.01, reg: 0.3, seed: 42, gateRmse: 1 });
  });

  it("refuses an unknown key naming file, line and key", async () => {
    const err = await failure("train:\n  engine: sgd\n  lrate: 0.01\n");
    expect(err.code).toBe("RECSYS_BAD_PARAMS");
    expect(err.exitCode).toBe(2);
    expect(err.message).toMatch(/params-\d+\.yaml:3: train\.lrate: unknown key \(allowed: engine, factors/);
  });

  it("refuses a wrong type and a bad engine at their lines", async () => {
    expect((await failure("gate:\n  rmse: 1.0\ntrain:\n  factors: many\n")).message).toMatch(/:4: train\.factors: /);
    expect((await failure("train: {engine: forest}\n")).message).toMatch(/:1: train\.engine: /);
  });

  it("refuses broken YAML and a missing file with one line each", async () => {
    expect((await failure("train: {engine: sgd\n")).message).toMatch(/not valid YAML/);
    const missing = await readParamsFile(join(root, "nope.yaml")).catch((e) => e);
    expect(missing.message).toMatch(/nope\.yaml: cannot read \(ENOENT\)/);
  });
});
