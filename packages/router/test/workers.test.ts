import { spawn } from "node:child_process";
import cluster from "node:cluster";
import { once } from "node:events";
import { get } from "node:http";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { parseEventLine } from "@recsys/ingest";
import { assignRelease, createRouter, startStubUpstream, type Release, type Router, type StubUpstream } from "@recsys/router";
import { admin, TOKEN, until } from "./helpers.ts";
import { firstMatch, ROOT } from "./replicas.ts";

// The public data plane in two worker processes (node:cluster) behind one port, the state in the
// primary. Every request here opens its own connection: the primary hands new connections to
// the workers in turn, so consecutive requests are served by both.

let stubs: StubUpstream[];
let tmp: string;
const cleanup: (() => Promise<unknown>)[] = [];
beforeAll(async () => {
  stubs = await Promise.all(["s1", "s2", "c"].map((name) => startStubUpstream({ name })));
  tmp = await mkdtemp(join(tmpdir(), "router-workers-"));
});
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});
afterAll(async () => {
  await Promise.all(stubs.map((s) => s.close()));
  await rm(tmp, { recursive: true, force: true });
});

const releases = (): Release[] => [
  { id: "stable", role: "stable", upstreams: [stubs[0].url, stubs[1].url], weight: 80 },
  { id: "canary", role: "canary", upstreams: [stubs[2].url], weight: 20 },
];

async function twoWorkers(): Promise<{ router: Router; url: string; adminUrl: string }> {
  const router = createRouter({
    port: 0, host: "127.0.0.1", adminToken: TOKEN, admin: { port: 0 }, releases: releases(), workers: 2,
    healthCheck: { intervalMs: 200, timeoutMs: 1000 }, budgetMs: 5000, attemptTimeoutMs: 2000,
  }, { onError: () => {} });
  cleanup.push(() => router.close());
  const { url, adminUrl } = await router.listen();
  return { router, url, adminUrl };
}

/** One GET on a connection of its own (no keep-alive pool), so the primary hands it to the next worker. */
function freshGet(url: string): Promise<{ status: number; release: string }> {
  return new Promise((resolve, reject) => {
    get(url, { agent: false }, (res) => {
      res.resume();
      res.on("end", () => resolve({ status: res.statusCode!, release: String(res.headers["x-release"] ?? "") }));
    }).on("error", reject);
  });
}

const liveWorkers = () => Object.values(cluster.workers ?? {}).filter((w): w is NonNullable<typeof w> => w !== undefined && !w.isDead());

describe("worker processes", () => {
  it("honours a weight change in every worker from the admin call's answer on", { timeout: 60_000 }, async () => {
    const { url, adminUrl } = await twoWorkers();
    expect(liveWorkers()).toHaveLength(2);
    for (const canary of [100, 0, 100]) {
      expect((await admin(adminUrl, "POST", "/admin/weights", { canary })).status).toBe(200);
      const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => freshGet(`${url}/recommend/${i + 1}`)));
      expect(answers.map((a) => a.release)).toEqual(answers.map(() => (canary === 100 ? "canary" : "stable")));
    }
  });

  it("sends the same users to the same release from both workers, and sums their metrics", { timeout: 60_000 }, async () => {
    const { url, adminUrl } = await twoWorkers();
    const users = Array.from({ length: 100 }, (_, i) => String(i * 37));
    for (const u of users) {
      // Two connections in a row: one to each worker.
      const got = [await freshGet(`${url}/recommend/${u}`), await freshGet(`${url}/recommend/${u}`)];
      expect({ u, got: got.map((a) => a.release) }).toEqual({ u, got: [assignRelease(releases(), u).id, assignRelease(releases(), u).id] });
    }
    const text = await (await fetch(`${adminUrl}/metrics`)).text();
    const served = [...text.matchAll(/^recsys_router_requests_total\{release="[^"]+"\} (\d+)$/gm)].reduce((n, m) => n + Number(m[1]), 0);
    expect(served).toBe(2 * users.length);
    expect(text).toMatch(/^recsys_router_weight\{release="canary"\} 20$/m);
  });

  it("replaces a worker that dies while the other keeps serving", { timeout: 60_000 }, async () => {
    const { url } = await twoWorkers();
    const [victim] = liveWorkers();
    const pid = victim!.process.pid;
    process.kill(pid!, "SIGKILL");
    await once(victim!, "exit");
    // The survivor serves every new connection until the replacement listens.
    const during = await Promise.all(Array.from({ length: 10 }, (_, i) => freshGet(`${url}/recommend/${i}`)));
    expect(during.map((a) => a.status)).toEqual(during.map(() => 200));
    await until(() => liveWorkers().length === 2 && liveWorkers().every((w) => w.process.pid !== pid), 30_000);
    const after = await Promise.all(Array.from({ length: 10 }, (_, i) => freshGet(`${url}/recommend/${i}`)));
    expect(after.map((a) => a.status)).toEqual(after.map(() => 200));
  });
});

describe("recsys route --workers 2", () => {
  it("drains every worker on SIGTERM and writes each request's lines whole, once, through one writer", { timeout: 90_000 }, async () => {
    const slow = await startStubUpstream({ name: "slow", latencyMs: 300 });
    cleanup.push(() => slow.close());
    const log = join(tmp, "events.log");
    const config = join(tmp, "workers.json");
    await writeFile(config, JSON.stringify({
      host: "127.0.0.1", admin: { port: 0 }, budgetMs: 5000, attemptTimeoutMs: 2000,
      releases: [{ id: "v1", role: "stable", upstreams: [slow.url], weight: 100 }], eventLog: { path: log },
    }));
    const child = spawn(process.execPath, ["--import", "tsx", join(ROOT, "packages/cli/src/main.ts"), "route", "--config", config, "--port", "0", "--workers", "2"], { cwd: ROOT, stdio: ["ignore", "pipe", "inherit"] });
    const exited = once(child, "exit");
    cleanup.push(async () => { if (child.exitCode === null) child.kill("SIGKILL"); await exited; });
    // Three processes start through tsx: slow on a loaded two-core machine.
    const url = await firstMatch(child, /routing (\S+)/, 60_000);

    // Many lines from both workers at once, then requests still in flight when SIGTERM lands.
    const users = Array.from({ length: 400 }, (_, i) => String(i + 1));
    for (let i = 0; i < users.length; i += 50) await Promise.all(users.slice(i, i + 50).map((u) => freshGet(`${url}/recommend/${u}`)));
    const inFlight = Array.from({ length: 20 }, (_, i) => freshGet(`${url}/recommend/${1000 + i}`));
    await until(() => slow.served() >= users.length + 20, 20_000);
    child.kill("SIGTERM");
    const late = await Promise.all(inFlight);
    expect(late.map((a) => a.status)).toEqual(late.map(() => 200));
    const [code] = await exited;
    expect(code).toBe(0);

    const lines = (await readFile(log, "utf8")).split("\n").filter(Boolean);
    // Each line is one whole stream line: two workers' lines never run into each other.
    expect(lines.filter((l) => !("kind" in parseEventLine(l)))).toEqual([]);
    const ids = lines.map((l) => l.split(",")[1]).sort((a, b) => Number(a) - Number(b));
    expect(ids).toEqual([...users, ...Array.from({ length: 20 }, (_, i) => String(1000 + i))]);
    const rows = (await readFile(`${log}.releases.csv`, "utf8")).split("\n").filter(Boolean);
    expect(rows[0]).toBe("time,user_id,release,upstream,status,latency_ms,attempts");
    expect(rows).toHaveLength(1 + ids.length);
  });

  it("refuses a worker count out of range, naming the key", () => {
    for (const workers of [0, 65, 1.5]) {
      expect(() => createRouter({ workers })).toThrow(expect.objectContaining({ code: "ROUTER_BAD_CONFIG", message: expect.stringContaining("workers") }));
    }
  });
});
