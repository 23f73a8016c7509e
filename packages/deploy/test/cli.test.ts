import { access } from "node:fs/promises";
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
});
