import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { access, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { simulatedWorlds } from "@recsys/fairness";
import { runCapture } from "../../test/run-cli.ts";

let root: string;
let worlds: Awaited<ReturnType<typeof simulatedWorlds>>;
const fast = ["--config"];
let config: string;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "fairness-cli-"));
  worlds = await simulatedWorlds(root);
  config = join(root, "fairness.json");
  await writeFile(config, JSON.stringify({ bootstrap: 200, permutations: 200 }));
});
afterAll(() => rm(root, { recursive: true, force: true }));

const report = (w: { model: string; data: string }, out: string, ...extra: string[]) =>
  runCapture(["fairness", "report", "--model", w.model, "--data", w.data, "--out", join(root, out), ...fast, config, ...extra]);

describe("recsys fairness report", () => {
  it("exits 4 with --check when a requirement fails, and names it", async () => {
    const r = await report(worlds.planted, "planted", "--check");
    expect(r.code).toBe(4);
    expect(r.stdout).toMatch(/requirement gender rmse \(difference <= 0\.1\): FAIL/);
    await access(join(root, "planted", "report.html"));
    // Without --check the same report exits 0: the verdict is in the output.
    expect((await report(worlds.planted, "planted")).code).toBe(0);
  });

  it("exits 0 with --check on the fair world and prints the summary with --json", async () => {
    const r = await report(worlds.fair, "fair", "--check", "--json");
    expect(r.code).toBe(0);
    const s = JSON.parse(r.stdout);
    expect(s.passed).toBe(true);
    expect(s.failed).toEqual([]);
    expect(s.requirements.length).toBe(4);
  });

  it("takes its thresholds from --config", async () => {
    const lax = join(root, "lax.json");
    await writeFile(lax, JSON.stringify({ bootstrap: 100, permutations: 100, requirements: [{ attribute: "gender", metric: "rmse", maxDifference: 2 }] }));
    const r = await runCapture(["fairness", "report", "--model", worlds.planted.model, "--data", worlds.planted.data, "--out", join(root, "lax"), "--config", lax, "--check"]);
    expect(r.code).toBe(0);
  });

  it("exits 2 on bad flags and inputs, with one line and no stack trace", async () => {
    const busy = join(root, "busy");
    await mkdir(busy);
    await writeFile(join(busy, "notes.txt"), "mine");
    const unknownKey = join(root, "unknown-key.json");
    await writeFile(unknownKey, JSON.stringify({ bootstrap: 100, tresholds: {} }));
    const w = worlds.fair;
    const cases = [
      ["fairness", "--model", w.model, "--data", w.data, "--out", join(root, "x")],
      ["fairness", "report", "--data", w.data, "--out", join(root, "x")],
      ["fairness", "report", "--model", w.model, "--data", w.data, "--out", join(root, "x"), "--bogus"],
      ["fairness", "report", "--model", w.model, "--data", w.data, "--out", join(root, "x"), "--seed", "abc"],
      ["fairness", "report", "--model", w.model, "--data", w.data, "--out", join(root, "x"), "--mitigation", "calibration:2"],
      ["fairness", "report", "--model", w.model, "--data", w.data, "--out", join(root, "x"), "--config", unknownKey],
      ["fairness", "report", "--model", w.model, "--data", w.data, "--out", join(root, "x"), "--config", join(root, "missing.json")],
      ["fairness", "report", "--model", w.model, "--data", w.data, "--out", busy, ...fast, config],
      ["fairness", "report", "--model", w.model, "--data", worlds.planted.data, "--out", join(root, "x"), ...fast, config],
      ["fairness", "online", "--events", join(root, "missing.log"), "--responses", root],
      ["fairness", "online", "--events", join(root, "missing.log"), "--responses", root, "--users", join(w.data, "users.jsonl"), "--follow-window", "soon"],
      ["fairness", "online", "--events", join(root, "missing.log"), "--responses", root, "--users", join(w.data, "users.jsonl")],
    ];
    for (const argv of cases) {
      const r = await runCapture(argv);
      expect({ argv, code: r.code }).toEqual({ argv, code: 2 });
      expect(r.stderr.trim().split("\n")).toHaveLength(1);
      expect(r.stderr).toMatch(/^recsys fairness: /);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    }
    expect(await readFile(join(busy, "notes.txt"), "utf8")).toBe("mine");
  });
});
