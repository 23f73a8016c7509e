import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createRouter, type Router } from "@recsys/router";
import { createProcessDriver, type Replica, type ReplicaDriver } from "@recsys/deploy";
import { USERS, tempDir, writeTestModel } from "./fixtures.ts";
import { steadyLoad } from "./load.ts";

const alive = (r: Replica) => {
  try {
    process.kill(Number(r.handle), 0);
    return true;
  } catch {
    return false;
  }
};

describe("process driver (real processes)", () => {
  let root: string, model: string, driver: ReplicaDriver, router: Router, routerUrl: string;

  beforeAll(async () => {
    root = await tempDir("driver");
    model = await writeTestModel(join(root, "m1"), 1);
    driver = createProcessDriver({ logDir: join(root, "logs"), graceMs: 3000 });
  });

  afterAll(async () => {
    await router?.close();
    await Promise.all(driver.list().map((r) => driver.stop(r)));
  });

  it("replaces replicas behind a router under load without dropping a request", async () => {
    const [a, b] = await Promise.all([driver.start({ releaseId: "r1", modelDir: model }), driver.start({ releaseId: "r1", modelDir: model })]);
    expect(a!.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    router = createRouter({ port: 0, host: "127.0.0.1", admin: { port: 0 }, releases: [{ id: "r1", role: "stable", upstreams: [a!.url, b!.url], weight: 100 }] });
    routerUrl = (await router.listen()).url;

    const load = steadyLoad(routerUrl, 40, USERS);
    let current = [a!, b!];
    for (const old of [a!, b!]) {
      const next = await driver.start({ releaseId: "r1", modelDir: model });
      current = [...current.filter((r) => r !== old), next];
      router.setUpstreams("r1", current.map((r) => r.url)); // the router stops sending to `old` first...
      await driver.stop(old, { drainMs: 200 }); // ...then it drains and gets SIGTERM
      expect(alive(old)).toBe(false);
    }
    const tally = await load.stop();
    expect(tally.failures).toEqual([]);
    expect(tally.ok).toBeGreaterThan(40);
    expect(driver.list().map((r) => r.id).sort()).toEqual(current.map((r) => r.id).sort());
  }, 60_000);

  it("stops a replica started by another driver instance (by pid), and a gone one without error", async () => {
    const other = createProcessDriver({ logDir: join(root, "logs") });
    const victim = driver.list()[0]!;
    await other.stop(victim);
    expect(alive(victim)).toBe(false);
    await expect(other.stop(victim)).resolves.toBeUndefined();
  });

  it("reports a replica that cannot start, with its log", async () => {
    await expect(driver.start({ releaseId: "r2", modelDir: join(root, "missing") })).rejects.toMatchObject({
      code: "DEPLOY_REPLICA_START", message: expect.stringMatching(/exit code 2.*model/),
    });
  });
});
