import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { writeModelArtifact } from "@recsys/artifact";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { appendRelease, checkDeployable, gitCommit, readReleases, releaseIdFor, type ReleaseRecord } from "@recsys/deploy";
import { lockPlatform } from "../src/state.ts";
import { tempDir, writeTestModel } from "./fixtures.ts";

const record = (releaseId: string): ReleaseRecord => ({
  releaseId, verdict: "promoted", reason: "every check passes", modelId: "abc", modelHash: "a".repeat(64), modelDir: "/m", dataHash: "d",
  commit: "unknown", previousReleaseId: null, startedAt: "2026-12-01T00:00:00.000Z", canaryAt: null, decidedAt: null,
  finishedAt: "2026-12-01T00:01:00.000Z", evidence: { verdict: "promote" }, replicas: ["r@1"],
});

describe("release history and checks", () => {
  it("names releases by time and model hash, valid for router and API", () => {
    expect(releaseIdFor(new Date("2026-12-01T05:22:44.123Z"), "3fa2b1c4d5e6f7")).toBe("r20261201-052244-3fa2b1c4");
  });

  it("appends and reads back releases.jsonl; a broken line names file and line", async () => {
    const path = join(await tempDir("hist"), "releases.jsonl");
    expect(await readReleases(path)).toEqual([]);
    await appendRelease(path, record("r1"));
    await appendRelease(path, record("r2"));
    expect((await readReleases(path)).map((r) => r.releaseId)).toEqual(["r1", "r2"]);
    await writeFile(path, "{not json\n", { flag: "a" });
    await expect(readReleases(path)).rejects.toMatchObject({ code: "DEPLOY_BAD_INPUT", message: expect.stringContaining("releases.jsonl:3") });
  });

  it("holds one deploy lock per state directory, and takes over a dead holder's", async () => {
    const dir = await tempDir("lock");
    const release = await lockPlatform(dir);
    await expect(lockPlatform(dir)).rejects.toMatchObject({ code: "DEPLOY_BUSY" });
    await release();
    await writeFile(join(dir, "deploy.lock"), "999999999\n");
    await (await lockPlatform(dir))();
  });

  it("refuses gate-failed, quarantined and corrupt models with their own codes", async () => {
    const dir = await tempDir("check");
    const good = await checkDeployable(await writeTestModel(join(dir, "good"), 1));
    expect(good.modelId).toBe(good.modelHash.slice(0, 12));
    await expect(checkDeployable(await writeTestModel(join(dir, "bad"), 2, false))).rejects.toMatchObject({ code: "RECSYS_GATE_FAILED", exitCode: 3 });
    await writeTestModel(join(dir, "q"), 3);
    await rename(join(dir, "q"), join(dir, "q.failed"));
    await expect(checkDeployable(join(dir, "q.failed"))).rejects.toMatchObject({ code: "RECSYS_GATE_FAILED" });
    await mkdir(join(dir, "empty"));
    await expect(checkDeployable(join(dir, "empty"))).rejects.toMatchObject({ code: "RECSYS_BAD_ARTIFACT", exitCode: 2 });
    // A sound artifact that is not a recommender the API could serve is refused too, not left to crash a replica.
    const meta = JSON.parse(await readFile(join(dir, "good", "model.json"), "utf8"));
    const { tensors: _t, modelHash: _h, formatVersion: _v, ...info } = meta;
    await writeModelArtifact(join(dir, "partial"), info, { user_bias: { data: new Float32Array(info.userIds.length), shape: [info.userIds.length] } });
    await expect(checkDeployable(join(dir, "partial"))).rejects.toMatchObject({ code: "RECSYS_BAD_ARTIFACT", message: expect.stringMatching(/missing/) });
  });

  it("takes the release commit from git, RECSYS_GIT_COMMIT, or says unknown", async () => {
    expect(await gitCommit(fileURLToPath(new URL(".", import.meta.url)))).toMatch(/^[0-9a-f]{40}$/);
    expect(await gitCommit(await tempDir("nogit"))).toBe("unknown");
    expect(await gitCommit(await tempDir("nogit"), { RECSYS_GIT_COMMIT: "abc123" })).toBe("abc123");
  });
});
