import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { md5Dir } from "@recsys/core";

// DVC cannot be installed here: dvc.yaml is checked against the keys DVC's schema allows
// (dvc/schema.py: SINGLE_STAGE_SCHEMA, OUT_PSTAGE_DETAILED_SCHEMA), its params against
// params.yaml, and its stages are run in order, as `dvc repro` would.
const ROOT = fileURLToPath(new URL("../../..", import.meta.url));
const TOP_KEYS = ["stages", "vars", "params", "metrics", "plots", "artifacts", "datasets"];
const STAGE_KEYS = ["cmd", "wdir", "deps", "params", "outs", "metrics", "plots", "frozen", "always_changed", "meta", "desc", "vars", "foreach", "do", "matrix"];
const OUT_KEYS = ["cache", "persist", "desc", "remote", "push", "type", "labels", "meta"];
/** The flag each param is passed as (the last part of its key, but for the gate's). */
const FLAG_OF: Record<string, string> = { "gate.rmse": "--gate-rmse" };

interface Stage { cmd: string; deps?: string[]; params?: string[]; outs?: Array<string | Record<string, object>>; metrics?: Array<string | Record<string, object>> }
let dvc: { stages: Record<string, Stage> };
let params: Record<string, Record<string, unknown>>;
const paths = (list: Stage["outs"]) => (list ?? []).map((o) => (typeof o === "string" ? o : Object.keys(o)[0]!));

beforeAll(async () => {
  dvc = parse(await readFile(join(ROOT, "dvc.yaml"), "utf8"));
  params = parse(await readFile(join(ROOT, "params.yaml"), "utf8"));
});

describe("dvc.yaml", () => {
  it("uses only the keys DVC's schema allows", () => {
    for (const key of Object.keys(dvc)) expect(TOP_KEYS).toContain(key);
    for (const [name, stage] of Object.entries(dvc.stages)) {
      for (const key of Object.keys(stage)) expect(STAGE_KEYS, `${name}.${key}`).toContain(key);
      expect(typeof stage.cmd).toBe("string");
      for (const list of [stage.deps, stage.params, stage.outs, stage.metrics]) expect(list === undefined || Array.isArray(list)).toBe(true);
      for (const out of [...(stage.outs ?? []), ...(stage.metrics ?? [])]) {
        if (typeof out === "string") continue;
        expect(Object.keys(out)).toHaveLength(1);
        for (const key of Object.keys(Object.values(out)[0]!)) expect(OUT_KEYS, `${name}: ${key}`).toContain(key);
      }
    }
  });

  it("names only params that params.yaml has, and passes each with its params.yaml value", () => {
    expect(Object.keys(params).sort()).toEqual(["gate", "serve", "train"]);
    for (const [name, stage] of Object.entries(dvc.stages)) {
      for (const key of stage.params ?? []) {
        const [section, field] = key.split(".");
        const value = params[section!]?.[field!];
        expect(value, `${name}: ${key}`).not.toBeUndefined();
        expect(stage.cmd, `${name}: ${key}`).toContain(`${FLAG_OF[key] ?? `--${field}`} ${value}`);
      }
    }
  });

  it("runs simulate -> ingest -> train (gate) -> evaluate -> fairness, each stage depending only on earlier ones", () => {
    expect(Object.keys(dvc.stages)).toEqual(["simulate", "ingest", "train", "evaluate", "fairness"]);
    const made = new Set<string>();
    const producedBy = new Set(Object.values(dvc.stages).flatMap((s) => paths(s.outs)));
    for (const stage of Object.values(dvc.stages)) {
      for (const dep of stage.deps ?? []) if (producedBy.has(dep)) expect(made.has(dep), dep).toBe(true);
      for (const out of paths(stage.outs)) made.add(out);
    }
  });
});

describe("dvc.yaml's commands, run in order", () => {
  let work: string;
  const run = promisify(execFile);
  // `pnpm recsys` is the root's tsx script: the same CLI, started here without pnpm.
  const tsx = pathToFileURL(createRequire(join(ROOT, "package.json")).resolve("tsx")).href;
  const recsys = `'${process.execPath}' --import ${tsx} '${join(ROOT, "packages/cli/src/main.ts")}'`;
  // A small world keeps the test short: dense enough (about 20 ratings a user in 10 days) for
  // train's defaults to beat the gate's biases-only baseline, as on the pipeline's own world.
  const command = (stage: Stage) =>
    stage.cmd.replaceAll("pnpm recsys", recsys).replace(/--users \d+ --movies \d+ --days \d+/, "--users 800 --movies 300 --days 10");
  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), "dvc-repro-"));
  });
  afterAll(async () => {
    await rm(work, { recursive: true, force: true });
  });

  it("reproduces every out and metrics file; train again gives the same model bytes", async () => {
    expect(command(dvc.stages.simulate!), "the simulate stage's world size flags").toContain("--users 800 --movies 300 --days 10");
    for (const [name, stage] of Object.entries(dvc.stages)) {
      await run("sh", ["-c", command(stage)], { cwd: work, timeout: 240_000 }).catch((err) => {
        throw new Error(`stage ${name} failed: ${err.stderr ?? err.message}`);
      });
      for (const out of paths(stage.outs)) expect((await stat(join(work, out))).isDirectory(), `${name}: ${out}`).toBe(true);
      for (const m of paths(stage.metrics)) expect(JSON.parse(await readFile(join(work, m), "utf8")), `${name}: ${m}`).toBeTypeOf("object");
    }
    const train = JSON.parse(await readFile(join(work, "metrics/train.json"), "utf8"));
    expect(JSON.stringify(train)).toMatch(/rmse/i);
    const first = await md5Dir(join(work, "models/current"));
    await rm(join(work, "models/current"), { recursive: true });
    await run("sh", ["-c", command(dvc.stages.train!)], { cwd: work, timeout: 240_000 });
    expect(await md5Dir(join(work, "models/current"))).toEqual(first);
  }, 600_000);
});
