import { access, readFile, writeFile } from "node:fs/promises";
import { basename, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createFaultyDriver, createProcessDriver, readReleases, startPlatform, type Faults, type Platform, type ReplicaDriver } from "@recsys/deploy";
import { USERS, recsys, tempDir, writeTestModel } from "./fixtures.ts";
import { steadyLoad } from "./load.ts";

// Real processes and real HTTP on 127.0.0.1: one platform (router in-process, two stable API
// replicas as child processes) serves every case in order, under ~20 req/s of steady load.
// Real API replicas of these models get faults: 30% of answers fail, or the replica never gets ready.
const FAULTS: Record<string, Faults> = { "m3-bad": { errorRate: 0.3, seed: 7 }, "m5-nostart": { startFails: true } };
const DEPLOY = { canaryWeight: 50, intervalMs: 1000, maxWaitMs: 30_000, drainMs: 300, canary: { minRequests: 40, minRequestsForRollback: 20 } };

describe("platform deploy (real processes)", () => {
  let root: string;
  let platform: Platform;
  let driver: ReplicaDriver;
  const releasesFile = () => join(root, "state", "releases.jsonl");

  beforeAll(async () => {
    root = await tempDir("platform");
    const logDir = join(root, "replicas");
    driver = createFaultyDriver(createProcessDriver({ logDir }), { logDir, faultsFor: (spec) => FAULTS[basename(spec.modelDir)] ?? null });
    await writeTestModel(join(root, "m1"), 1);
    platform = await startPlatform({ modelDir: join(root, "m1"), driver, stateDir: join(root, "state"), replicas: 2, deployDefaults: DEPLOY });
  }, 60_000);

  afterAll(async () => {
    await platform?.stop();
    expect(driver.list()).toEqual([]);
  });

  it("refuses a gate-failed model before anything starts", async () => {
    const failed = await writeTestModel(join(root, "m-failed"), 2, false);
    const before = driver.list().map((r) => r.id);
    await expect(platform.deploy(failed)).rejects.toMatchObject({ code: "RECSYS_GATE_FAILED", exitCode: 3 });
    expect(driver.list().map((r) => r.id)).toEqual(before);
    expect((await readReleases(releasesFile())).map((r) => r.verdict)).toEqual(["initial"]);
    await expect(access(join(root, "state", "deploy.lock"))).rejects.toThrow();
  });

  it("promotes a good model under steady load without a failed request", async () => {
    const load = steadyLoad(platform.routerUrl, 20, USERS);
    const logged: string[] = [];
    const analyses: Array<{ canary: string; requests: number; line: string }> = [];
    const record = await platform.deploy(await writeTestModel(join(root, "m2"), 2), {
      log: (line) => logged.push(line),
      onAnalysis: (a, line) => analyses.push({ canary: a.canary, requests: a.arms.canary.requests, line }),
    });
    const tally = await load.stop();
    expect(tally.failures).toEqual([]);
    expect(tally.ok).toBeGreaterThan(100);
    // Each analysis reached onAnalysis with its line, and only there; the last one decided.
    expect(analyses.length).toBeGreaterThan(0);
    expect(analyses.every((a) => a.canary === record.releaseId && a.line.startsWith("analysis after "))).toBe(true);
    expect(analyses.at(-1)!.requests).toBeGreaterThanOrEqual(40);
    expect(logged.filter((l) => l.startsWith("analysis after"))).toEqual([]);
    expect(logged).toContain(`release ${record.releaseId}: promoted (${record.reason})`);
    expect(record.verdict).toBe("promoted");
    expect(record.replicas).toHaveLength(2);
    expect(Object.keys(tally.byRelease).sort()).toEqual([record.previousReleaseId, record.releaseId].sort());

    const status = await platform.status();
    expect(status.router).toEqual([{ id: record.releaseId, role: "stable", upstreams: expect.any(Array), weight: 100 }]);
    expect(status.state.stable.releaseId).toBe(record.releaseId);
    expect(status.state.replicas.map((r) => r.releaseId)).toEqual([record.releaseId, record.releaseId]);
    const history = await readReleases(releasesFile());
    expect(history.map((r) => r.verdict)).toEqual(["initial", "promoted"]);
    expect(history[1]).toMatchObject({ releaseId: record.releaseId, previousReleaseId: history[0]!.releaseId, modelHash: expect.stringMatching(/^[0-9a-f]{64}$/) });
    expect((history[1]!.evidence as { arms: { canary: { requests: number } } }).arms.canary.requests).toBeGreaterThanOrEqual(40);
  }, 90_000);

  it("rolls back a failing canary automatically, without a failed request", async () => {
    const before = (await platform.status()).state;
    const load = steadyLoad(platform.routerUrl, 20, USERS);
    const record = await platform.deploy(await writeTestModel(join(root, "m3-bad"), 3));
    const tally = await load.stop();
    expect(tally.failures).toEqual([]);
    expect(record.verdict).toBe("rolled-back");
    expect(record.reason).toMatch(/availability/);
    // The canary did get traffic and did fail; the router retried those answers on stable.
    const canaryArm = (record.evidence as { arms: { canary: { requests: number; successRate: number } } }).arms.canary;
    expect(canaryArm.requests).toBeGreaterThanOrEqual(20);
    expect(canaryArm.successRate).toBeLessThan(0.99);

    const after = await platform.status();
    expect(after.router).toEqual([{ id: before.stable.releaseId, role: "stable", upstreams: expect.any(Array), weight: 100 }]);
    expect(after.state.replicas.map((r) => r.id)).toEqual(before.replicas.map((r) => r.id));
    expect(driver.list()).toHaveLength(2);
    const lines = (await readFile(releasesFile(), "utf8")).trim().split("\n");
    expect(JSON.parse(lines.at(-1)!)).toMatchObject({ verdict: "rolled-back", releaseId: record.releaseId, replicas: [] });
    // The evidence is also a report with charts, one per decided release.
    const report = await readFile(join(root, "state", "reports", `${record.releaseId}.html`), "utf8");
    expect(report).toContain("<svg");
    expect(report).toContain(record.releaseId);
  }, 90_000);

  it("a canary that never gets ready fails the deploy, records it, and leaves stable serving", async () => {
    const before = (await platform.status()).state;
    const load = steadyLoad(platform.routerUrl, 20, USERS);
    await expect(platform.deploy(await writeTestModel(join(root, "m5-nostart"), 5))).rejects.toMatchObject({ code: "DEPLOY_REPLICA_START" });
    const tally = await load.stop();
    expect(tally.failures).toEqual([]);
    const after = await platform.status();
    expect(after.router).toEqual([{ id: before.stable.releaseId, role: "stable", upstreams: expect.any(Array), weight: 100 }]);
    expect(after.state.replicas).toEqual(before.replicas);
    expect(after.releases.at(-1)).toMatchObject({ verdict: "failed", reason: expect.stringMatching(/never became ready/), canaryAt: null });
  }, 60_000);

  it("recsys deploy promotes through the running platform's router and state dir, without a failed request", async () => {
    const stateDir = join(root, "state");
    await writeFile(join(root, "canary.json"), JSON.stringify(DEPLOY.canary));
    const load = steadyLoad(platform.routerUrl, 20, USERS);
    const r = await recsys(["deploy", "--model", await writeTestModel(join(root, "m4"), 4), "--state", stateDir, "--interval", "1", "--canary-weight", "50",
      "--drain", "300", "--canary-config", join(root, "canary.json"), "--json"], { RECSYS_ADMIN_TOKEN: platform.adminToken });
    const tally = await load.stop();
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ verdict: "promoted", commit: expect.stringMatching(/^([0-9a-f]{40}|unknown)$/) });
    expect(tally.failures).toEqual([]);
    const history = await readReleases(releasesFile());
    expect(history.map((h) => h.verdict)).toEqual(["initial", "promoted", "rolled-back", "failed", "promoted"]);
    // The CLI's replicas are detached processes of its own; platform.stop() (afterAll) stops them by pid.
    expect((await platform.status()).state.replicas.map((x) => x.releaseId)).toEqual([history[4]!.releaseId, history[4]!.releaseId]);
  }, 90_000);
});
