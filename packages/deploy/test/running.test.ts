import { readFile, rm, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { createProcessDriver, deployToRunningPlatform, readReleases, startPlatform, type Platform, type ReplicaDriver } from "@recsys/deploy";
import { tempDir, writeTestModel } from "./fixtures.ts";

// One canary at a time between the platform's own deploys (the main job's cycle) and a user's
// `recsys deploy` from another process: real router, replicas and lock file on 127.0.0.1.
describe("deploying into a running platform from outside", () => {
  let root: string;
  let stateDir: string;
  let platform: Platform;
  let driver: ReplicaDriver;
  const verdicts = async () => (await readReleases(join(stateDir, "releases.jsonl"))).map((r) => r.verdict);
  // Another process's deploy in progress: the lock names a live pid that is not ours.
  const holdLock = () => writeFile(join(stateDir, "deploy.lock"), `${process.ppid}\n`);

  beforeAll(async () => {
    root = await tempDir("running");
    stateDir = join(root, "state");
    driver = createProcessDriver({ logDir: join(root, "replicas") });
    platform = await startPlatform({ modelDir: await writeTestModel(join(root, "m1"), 1), driver, stateDir, replicas: 1 });
  }, 60_000);

  afterAll(async () => {
    await platform?.stop();
    // The generated token dies with the router.
    await expect(stat(join(stateDir, "admin-token"))).rejects.toThrow();
  });

  it("writes the generated admin token for its owner only, and a deploy without RECSYS_ADMIN_TOKEN uses it", async () => {
    const file = join(stateDir, "admin-token");
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect((await readFile(file, "utf8")).trim()).toBe(platform.adminToken);
  });

  it("the platform's own deploy is refused while another process deploys, with nothing started", async () => {
    await holdLock();
    try {
      const before = driver.list().length;
      await expect(platform.deploy(await writeTestModel(join(root, "m2"), 2))).rejects.toMatchObject({ code: "DEPLOY_BUSY", exitCode: 2 });
      expect(driver.list()).toHaveLength(before);
      expect(await verdicts()).toEqual(["initial"]);
    } finally {
      await rm(join(stateDir, "deploy.lock"), { force: true });
    }
  });

  it("a user's deploy waits for the deploy in progress, says so, then runs (reading the token file)", async () => {
    await holdLock();
    const lines: string[] = [];
    // No traffic reaches the canary: max-wait ends its analysis with a rollback, which is enough to show it ran.
    const deploy = deployToRunningPlatform({ modelDir: await writeTestModel(join(root, "m3"), 3), stateDir, intervalMs: 100, maxWaitMs: 500, log: (l) => lines.push(l) });
    await vi.waitFor(() => expect(lines.join("\n")).toMatch(/waiting for our turn: .*deploy\.lock: another deploy is in progress \(pid \d+\)/), { timeout: 10_000 });
    expect(await verdicts()).toEqual(["initial"]);
    await rm(join(stateDir, "deploy.lock"));
    expect(await deploy).toMatchObject({ verdict: "rolled-back" });
    expect(await verdicts()).toEqual(["initial", "rolled-back"]);
  }, 60_000);

  it("a user's deploy stopped while it waits starts nothing and says the platform is busy", async () => {
    await holdLock();
    try {
      const stop = new AbortController();
      const lines: string[] = [];
      const deploy = deployToRunningPlatform({ modelDir: await writeTestModel(join(root, "m4"), 4), stateDir, signal: stop.signal, log: (l) => lines.push(l) });
      await vi.waitFor(() => expect(lines).toHaveLength(1));
      stop.abort();
      await expect(deploy).rejects.toMatchObject({ code: "DEPLOY_BUSY" });
      expect(await verdicts()).toEqual(["initial", "rolled-back"]);
    } finally {
      await rm(join(stateDir, "deploy.lock"), { force: true });
    }
  });

  it("names RECSYS_ADMIN_TOKEN when neither it nor a token file is there", async () => {
    const other = join(root, "other-state");
    const second = await startPlatform({ modelDir: join(root, "m1"), driver, stateDir: other, replicas: 1, adminToken: "a-token-of-the-user-0123" });
    try {
      await expect(stat(join(other, "admin-token"))).rejects.toThrow();
      await expect(deployToRunningPlatform({ modelDir: join(root, "m2"), stateDir: other })).rejects.toMatchObject({
        code: "DEPLOY_BAD_INPUT", exitCode: 2, message: expect.stringMatching(/^RECSYS_ADMIN_TOKEN: not set, and .*admin-token does not exist/),
      });
    } finally {
      await second.stop();
    }
  }, 60_000);
});
