import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { Release } from "@recsys/router";
import { request, startHostileUpstream, trickle, type Lie } from "./hostile.ts";
import { ADMIN_TOKEN, knownUser, startReplicas, startTestRouter, type Replicas, type TestRouter } from "./replicas.ts";

// Fault tests (issue 16): a bounded load loop through the real router while one upstream of three
// fails in some way. A good replica is always left, and the router retries once on another
// upstream, so every request must get its own user's list: no wrong answer, no failure.

const CLIENTS = 8;
const PER_CLIENT = 30;
/**
 * Budgets far above a try's cost (two cores shared with other suites must not fake a failure), and
 * health checks slow enough that an ejected upstream that still passes /readyz (a hang on
 * /recommend only) is not back every 200 ms to cost each client another timeout.
 */
const FAULT_CONFIG = {
  attemptTimeoutMs: 800, budgetMs: 5000, healthCheck: { intervalMs: 2000, timeoutMs: 1000 },
  clientTimeouts: { headersMs: 1000, requestMs: 2000, keepAliveMs: 5000 },
};

let replicas: Replicas;
const cleanup: (() => Promise<unknown>)[] = [];
beforeAll(async () => {
  replicas = await startReplicas(2);
  await Promise.all(Array.from({ length: CLIENTS * PER_CLIENT }, (_, i) => replicas.expected(knownUser(i))));
});
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});
afterAll(() => replicas?.close());

async function routerOver(faulty: string): Promise<TestRouter> {
  const releases: Release[] = [{ id: "v1", role: "stable", upstreams: [...replicas.urls, faulty], weight: 100 }];
  const started = await startTestRouter(releases, FAULT_CONFIG);
  cleanup.push(() => started.router.close());
  return started;
}

interface LoadResult { ok: number; wrong: string[]; failed: string[] }

/**
 * CLIENTS clients, PER_CLIENT requests each, one at a time per client; stops by itself.
 * `onProgress(done)` is called after every answer (to inject a fault mid-run).
 */
async function loadLoop(url: string, onProgress: (done: number) => void = () => {}): Promise<LoadResult> {
  const result: LoadResult = { ok: 0, wrong: [], failed: [] };
  let done = 0;
  await Promise.all(Array.from({ length: CLIENTS }, async (_, c) => {
    for (let k = 0; k < PER_CLIENT; k++) {
      const user = knownUser(c * PER_CLIENT + k);
      try {
        const res = await fetch(`${url}/recommend/${user}`);
        const body = await res.text();
        const release = res.headers.get("x-release");
        if (res.status !== 200 || release === "fallback") result.failed.push(`${user}: ${res.status} ${release}`);
        else if (body !== (await replicas.expected(user))) result.wrong.push(`${user}: ${body.slice(0, 40)}`);
        else result.ok++;
      } catch (err) {
        result.failed.push(`${user}: ${(err as Error).message}`);
      }
      onProgress(++done);
    }
  }));
  return result;
}

const perfect = { ok: CLIENTS * PER_CLIENT, wrong: [], failed: [] };

describe("one upstream of three fails under load", () => {
  it("SIGKILL of a replica's process mid-run", async () => {
    const child = await replicas.spawnChild();
    const { url } = await routerOver(child.url);
    let killed: Promise<void> | null = null;
    const result = await loadLoop(url, (done) => { if (done === 60) killed = child.kill(); });
    await killed;
    expect(child.child.signalCode).toBe("SIGKILL");
    expect(result).toEqual(perfect);
  });

  const faults: [string, Lie][] = [
    ["hangs", { kind: "hang" }],
    ["answers garbage", { kind: "garbage" }],
    ["closes mid-body", { kind: "close", at: "body" }],
    ["closes mid-head", { kind: "close", at: "head" }],
    ["answers another user's list", { kind: "wrongUser", other: "999999" }],
  ];
  it.each(faults)("an upstream that %s", async (_, lie) => {
    const bad = await startHostileUpstream();
    cleanup.push(() => bad.close());
    bad.setLies(() => lie);
    const { url } = await routerOver(bad.url);
    expect(await loadLoop(url)).toEqual(perfect);
    // The fault was met (a quiet upstream would make this test prove nothing).
    expect(bad.recommends().length).toBeGreaterThan(0);
  });
});

describe("slowloris clients during load", () => {
  it("closes every trickling connection on the public and admin listeners while serving the load", { timeout: 45_000 }, async () => {
    const bad = await startHostileUpstream();
    cleanup.push(() => bad.close());
    bad.setLies(() => ({ kind: "close", at: "body" }));
    const { port, adminUrl } = await routerOver(bad.url);
    const adminPort = Number(new URL(adminUrl).port);
    // 100 ms a byte, 100 bytes: 10 s of trickle, far past every configured client timeout; no
    // head or body is ever complete.
    const pad = `X-Pad: ${"a".repeat(100)}`;
    const adminHead = `POST /admin/weights HTTP/1.1\r\nHost: r\r\nAuthorization: Bearer ${ADMIN_TOKEN}\r\nContent-Length: 400\r\n\r\n`;
    const slow = [
      trickle(port, "", request("/recommend/2", pad).slice(0, -4), 100),
      trickle(port, request("/healthz"), request("/recommend/2", pad).slice(0, -4), 100),
      trickle(port, "GET /recommend/2 HTTP/1.1\r\n", pad, 100),
      trickle(adminPort, "", request("/admin/state", pad).slice(0, -4), 100),
      trickle(adminPort, adminHead, `{"weights":{"v1":100},"x":"${"a".repeat(100)}"}`, 100),
    ];
    const result = await loadLoop(`http://127.0.0.1:${port}`);
    const closed = await Promise.all(slow);
    expect(result).toEqual(perfect);
    expect(closed.map((c) => c.closedByServer)).toEqual(slow.map(() => true));
    expect(closed.filter((c) => /HTTP\/1\.1 200[^]*HTTP\/1\.1 200/.test(c.answer))).toEqual([]);
  });
});
