import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { simulatedWorlds } from "@recsys/fairness";
import { runCapture } from "../../test/run-cli.ts";

let root: string;
let worlds: Awaited<ReturnType<typeof simulatedWorlds>>;
let config: string;
const token = process.env.RECSYS_ADMIN_TOKEN;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "deploy-fairness-"));
  worlds = await simulatedWorlds(root);
  config = join(root, "fairness.json");
  await writeFile(config, JSON.stringify({ bootstrap: 200, permutations: 200 }));
  process.env.RECSYS_ADMIN_TOKEN = "test-token-0123456789";
}, 120_000);
afterAll(async () => {
  if (token === undefined) delete process.env.RECSYS_ADMIN_TOKEN;
  else process.env.RECSYS_ADMIN_TOKEN = token;
  await rm(root, { recursive: true, force: true });
});

const lastRelease = async (state: string) => JSON.parse((await readFile(join(state, "releases.jsonl"), "utf8")).trim().split("\n").at(-1)!);

describe("recsys deploy: the fairness gate before the canary", () => {
  it("refuses a model that fails a requirement (exit 4, evidence in releases.jsonl) and lets a fair one go out", async () => {
    const state = join(root, "state");
    const up = await runCapture(["deploy", "--init", "--model", worlds.fair.model, "--data", worlds.fair.data, "--state", state, "--replicas", "1", "--router-port", "0"]);
    expect(up.code, up.stderr).toBe(0);
    try {
      const refused = await runCapture(["deploy", "--model", worlds.planted.model, "--data", worlds.planted.data, "--fairness-config", config, "--state", state, "--json"]);
      expect(refused.code, refused.stderr).toBe(4);
      expect(refused.stderr).not.toMatch(/^\s+at /m);
      const r = await lastRelease(state);
      expect(r.verdict).toBe("refused");
      expect(r.canaryAt).toBeNull();
      expect(r.replicas).toEqual([]);
      expect(r.reason).toMatch(/^fairness: .*gender rmse: F vs M difference .* p [0-9.e-]+ \(requirement difference <= 0\.1/);
      const failed = r.fairness.requirements.find((q: { status: string; attribute: string; metric: string }) => q.status === "fail" && q.attribute === "gender" && q.metric === "rmse");
      expect(failed).toMatchObject({ attribute: "gender", metric: "rmse", highest: "F", lowest: "M", maxDifference: 0.1 });
      expect(failed.difference).toBeGreaterThan(0.1);
      expect(failed.pValue).toBeLessThan(0.05);
      expect(failed.differenceCi).toHaveLength(2);

      // The fair model passes the gate and its canary starts; with no traffic max-wait rolls it back (exit 5).
      const fair = await runCapture(["deploy", "--model", worlds.fair.model, "--data", worlds.fair.data, "--fairness-config", config, "--state", state, "--interval", "0.1", "--max-wait", "0.5"]);
      expect(fair.code, fair.stderr).toBe(5);
      const f = await lastRelease(state);
      expect(f.verdict).toBe("rolled-back");
      expect(f.fairness.passed).toBe(true);
      expect(f.canaryAt).not.toBeNull();
    } finally {
      expect((await runCapture(["deploy", "--down", "--state", state])).code).toBe(0);
    }
  }, 120_000);

  it("refuses --fairness-config without --data (exit 2, one line)", async () => {
    const r = await runCapture(["deploy", "--model", worlds.fair.model, "--fairness-config", config, "--state", join(root, "none")]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toMatch(/--fairness-config needs --data/);
  });
});
