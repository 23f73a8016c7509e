import { access, rm } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { recsys, tempDir, writeTestModel } from "./fixtures.ts";

describe("recsys deploy (real processes)", () => {
  it("refuses a gate-failed model with exit 3 before reading any state", async () => {
    const dir = await tempDir("cli-gate");
    const failed = await writeTestModel(join(dir, "m"), 1, false);
    const r = await recsys(["deploy", "--model", failed, "--state", join(dir, "state")]);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/failed the quality gate.*can never be deployed/);
    await expect(access(join(dir, "state"))).rejects.toThrow();
  });

  it("says there is no platform (exit 2) when the state directory has none", async () => {
    const dir = await tempDir("cli-none");
    const r = await recsys(["deploy", "--model", await writeTestModel(join(dir, "m"), 1), "--state", join(dir, "state")]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/state\.json does not exist/);
  });

  it("--init starts a standalone platform (detached router + replicas) and --down stops it", async () => {
    const dir = await tempDir("cli-init");
    const stateDir = join(dir, "state");
    const env = { RECSYS_ADMIN_TOKEN: "test-token-0123456789" };
    const up = await recsys(["deploy", "--init", "--model", await writeTestModel(join(dir, "m"), 1), "--state", stateDir, "--replicas", "1", "--router-port", "0", "--json"], env);
    expect(up.code, up.stderr).toBe(0);
    const state = JSON.parse(up.stdout) as { router: { url: string; pid: number }; replicas: { handle: string }[] };
    try {
      const answer = await fetch(`${state.router.url}/recommend/3`);
      expect(answer.status).toBe(200);
      expect((await answer.text()).split(",")).toHaveLength(20);
    } finally {
      const down = await recsys(["deploy", "--down", "--state", stateDir], env);
      expect(down.code, down.stderr).toBe(0);
    }
    for (const pid of [state.router.pid, ...state.replicas.map((r) => Number(r.handle))]) expect(() => process.kill(pid, 0)).toThrow();
    await expect(access(join(stateDir, "state.json"))).rejects.toThrow();
  }, 60_000);

  it("exits 5 (not 1, which means a bug) when the release is rolled back", async () => {
    const dir = await tempDir("cli-rollback");
    const stateDir = join(dir, "state");
    const env = { RECSYS_ADMIN_TOKEN: "test-token-0123456789" };
    const up = await recsys(["deploy", "--init", "--model", await writeTestModel(join(dir, "m1"), 1), "--state", stateDir, "--replicas", "1", "--router-port", "0"], env);
    expect(up.code, up.stderr).toBe(0);
    try {
      // No traffic reaches the canary, so max-wait ends the analysis and --on-max-wait rolls back.
      const r = await recsys(["deploy", "--model", await writeTestModel(join(dir, "m2"), 2), "--state", stateDir, "--interval", "0.1", "--max-wait", "0.5", "--on-max-wait", "rollback", "--json"], env);
      expect(r.code, r.stderr).toBe(5);
      expect(JSON.parse(r.stdout).verdict).toBe("rolled-back");
      expect(r.stderr).not.toMatch(/^\s+at /m);
    } finally {
      expect((await recsys(["deploy", "--down", "--state", stateDir], env)).code).toBe(0);
      await rm(dir, { recursive: true, force: true });
    }
  }, 90_000);
});
