import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { createRouter, type Router } from "@recsys/router";
import type { Replica, ReplicaDriver } from "@recsys/deploy";
import { USERS, tempDir, writeTestModel } from "./fixtures.ts";
import { steadyLoad } from "./load.ts";

export interface DriverUnderTest {
  /** A fresh driver whose replicas log under `logDir`. */
  make(logDir: string): ReplicaDriver;
  /** Does the replica's process or container still run? */
  alive(replica: Replica): Promise<boolean>;
  /** What a replica that cannot load its model reports. */
  startFailure: RegExp;
}

/**
 * What every `ReplicaDriver` promises the deploy, run against a real one: replicas replaced
 * behind a router under load drop no request, another instance (a restarted deploy) stops a
 * replica by its handle, stopping a gone one is no error, and a replica that cannot start is
 * reported with its log. Call it inside a `describe`.
 */
export function replicaDriverContract(name: string, under: DriverUnderTest): void {
  let root: string, model: string, driver: ReplicaDriver, router: Router | undefined;

  beforeAll(async () => {
    root = await tempDir(name);
    model = await writeTestModel(join(root, "m1"), 1);
    driver = under.make(join(root, "logs"));
  });

  afterAll(async () => {
    await router?.close();
    await Promise.all(driver.list().map((r) => driver.stop(r)));
  });

  it("replaces replicas behind a router under load without dropping a request", async () => {
    const [a, b] = await Promise.all([driver.start({ releaseId: "r1", modelDir: model }), driver.start({ releaseId: "r1", modelDir: model })]);
    expect(a!.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    router = createRouter({ port: 0, host: "127.0.0.1", admin: { port: 0 }, releases: [{ id: "r1", role: "stable", upstreams: [a!.url, b!.url], weight: 100 }] });
    const routerUrl = (await router.listen()).url;

    const load = steadyLoad(routerUrl, 40, USERS);
    let current = [a!, b!];
    for (const old of [a!, b!]) {
      const next = await driver.start({ releaseId: "r1", modelDir: model });
      current = [...current.filter((r) => r !== old), next];
      router.setUpstreams("r1", current.map((r) => r.url)); // the router stops sending to `old` first...
      await driver.stop(old, { drainMs: 200 }); // ...then it drains and is stopped
      expect(await under.alive(old)).toBe(false);
    }
    const tally = await load.stop();
    expect(tally.failures).toEqual([]);
    expect(tally.ok).toBeGreaterThan(40);
    expect(driver.list().map((r) => r.id).sort()).toEqual(current.map((r) => r.id).sort());
  }, 120_000);

  it("stops a replica started by another driver instance (by its handle), and a gone one without error", async () => {
    const other = under.make(join(root, "logs"));
    const victim = driver.list()[0]!;
    await other.stop(victim);
    expect(await under.alive(victim)).toBe(false);
    await expect(other.stop(victim)).resolves.toBeUndefined();
  }, 60_000);

  it("reports a replica that cannot start, with its log", async () => {
    await expect(driver.start({ releaseId: "r2", modelDir: join(root, "missing") })).rejects.toMatchObject({
      code: "DEPLOY_REPLICA_START", message: expect.stringMatching(under.startFailure),
    });
  }, 60_000);
}
