import { createServer, type Socket } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { spawnStubUpstream, startStubUpstream, type Router } from "@recsys/router";
import { recommend, sleep, startRouter, until, type Answer } from "./helpers.ts";

const cleanup: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

async function routerOver(stable: string[], canary: string[] = [], extra = {}): Promise<{ router: Router; url: string }> {
  const releases = [
    { id: "v1", role: "stable" as const, upstreams: stable, weight: canary.length ? 80 : 100 },
    ...(canary.length ? [{ id: "v2", role: "canary" as const, upstreams: canary, weight: 20 }] : []),
  ];
  const started = await startRouter(releases, extra);
  cleanup.push(() => started.router.close());
  return started;
}

async function stub(opts: Parameters<typeof startStubUpstream>[0]) {
  const up = await startStubUpstream(opts);
  cleanup.push(() => up.close());
  return up;
}

/** A loopback port nothing listens on. */
async function deadPort(): Promise<string> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
  const port = (srv.address() as { port: number }).port;
  await new Promise((r) => srv.close(r));
  return `http://127.0.0.1:${port}`;
}

describe("retries and ejection", () => {
  it("retries a refused connect on another upstream and ejects the dead one", async () => {
    const doomed = await startStubUpstream({ name: "doomed" });
    const live = await stub({ name: "live" });
    const { router, url } = await routerOver([doomed.url, live.url], [], { healthCheck: { intervalMs: 60_000 } });
    await sleep(300); // the first health round (at listen) is over
    await doomed.close();
    // No health check will run before these: the tries that hit the closed port are retried.
    const answers: Answer[] = [];
    for (let u = 0; u < 10; u++) answers.push(await recommend(url, u));
    expect(answers.every((a) => a.status === 200 && a.upstream === "live")).toBe(true);
    const dead = router.state().upstreams.find((u) => u.url === doomed.url)!;
    expect(dead).toMatchObject({ healthy: false, lastError: "connect: ECONNREFUSED" });
    expect(await router.metrics()).toMatch(/recsys_router_retries_total [1-9]/);
  });

  it("retries a timed-out try within the budget", async () => {
    const slow = await stub({ name: "slow", latencyMs: 2000 });
    const fast = await stub({ name: "fast" });
    const { url } = await routerOver([slow.url, fast.url], [], { attemptTimeoutMs: 300, ejectAfter: 100, healthCheck: { intervalMs: 60_000 } });
    const answers = await Promise.all([1, 2, 3, 4].map((u) => recommend(url, u)));
    // Each got the fast upstream's list, not the fallback: the retry came inside the budget.
    expect(answers.map((a) => [a.status, a.upstream, a.release])).toEqual(Array(4).fill([200, "fast", "v1"]));
  });

  it("retries a 5xx answer, and routes a canary's users to stable while it is down", async () => {
    const stable = await stub({ name: "stable" });
    const canary = await stub({ name: "canary", status: 503 });
    const { router, url } = await routerOver([stable.url], [canary.url], { ejectAfter: 2, healthCheck: { intervalMs: 60_000 } });
    for (let u = 0; u < 50; u++) expect((await recommend(url, u)).upstream).toBe("stable");
    expect(router.state().upstreams.find((u) => u.url === canary.url)!.healthy).toBe(false);
  });

  it("brings an ejected upstream back when its health check passes", async () => {
    const a = await stub({ name: "a", ready: false });
    const b = await stub({ name: "b" });
    const { router } = await routerOver([a.url, b.url]);
    await until(() => !router.state().upstreams[0].healthy);
    a.set({ ready: true });
    await until(() => router.state().upstreams.every((u) => u.healthy));
  });

  it("still tries upstreams marked down when none is healthy: marks may be stale", async () => {
    const a = await stub({ name: "a", ready: false });
    const { router, url } = await routerOver([a.url]);
    await until(() => !router.state().upstreams[0].healthy);
    expect(await recommend(url, 1)).toMatchObject({ status: 200, upstream: "a", release: "v1" });
  });
});

/** An upstream that answers the first request on each connection with `Connection: close` and reads no more. */
async function oneAnswerPerConnection(): Promise<string> {
  const sockets = new Set<Socket>();
  const srv = createServer((socket) => {
    sockets.add(socket);
    socket.on("error", () => {});
    socket.once("data", () => socket.end("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 5\r\n\r\na1,a2"));
  });
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
  cleanup.push(async () => {
    for (const s of sockets) s.destroy();
    await new Promise((r) => srv.close(r));
  });
  return `http://127.0.0.1:${(srv.address() as { port: number }).port}`;
}

describe("upstream connections", () => {
  it("takes a fresh connection after an upstream closes one, without a retry or a failure held against it", async () => {
    const closing = await oneAnswerPerConnection();
    // ejectAfter 1: one failed try counted against `closing` would take it out.
    const { router, url } = await routerOver([closing], [], { ejectAfter: 1, healthCheck: { intervalMs: 60_000 } });
    for (let u = 1; u <= 6; u++) expect(await recommend(url, u)).toMatchObject({ status: 200, release: "v1", body: "a1,a2" });
    expect(await router.metrics()).toMatch(/^recsys_router_retries_total 0$/m);
    expect(router.state().upstreams[0]).toMatchObject({ healthy: true, failures: 0 });
  });
});

describe("losing replicas", () => {
  it("loses no request when a stable replica process is killed under steady load", async () => {
    const [a, b] = await Promise.all([spawnStubUpstream({ name: "a" }), spawnStubUpstream({ name: "b" })]);
    cleanup.push(() => a.kill(), () => b.kill());
    const canary = await stub({ name: "c" });
    const { url } = await routerOver([a.url, b.url], [canary.url]);
    const answers: Answer[] = [];
    const servedBy = new Set<string>();
    const stop = Date.now() + 2000;
    const worker = async (w: number) => {
      for (let i = 0; Date.now() < stop; i++) {
        const a = await recommend(url, w * 1000 + (i % 200));
        answers.push(a);
        servedBy.add(a.upstream);
        await sleep(10);
      }
    };
    const killer = sleep(700).then(() => b.kill());
    await Promise.all([...Array.from({ length: 8 }, (_, w) => worker(w)), killer]);
    expect(answers.length).toBeGreaterThan(100); // a loaded 2-core box manages a few hundred
    expect(answers.filter((a) => a.status !== 200)).toEqual([]);
    // The kill itself is absorbed by the retry. A fallback answer (still a 200) only comes from
    // two tries in a row timing out, which a starved shared test box can cause on a live replica.
    expect(answers.filter((a) => a.release === "fallback").length).toBeLessThanOrEqual(answers.length / 100);
    expect([...servedBy].sort()).toEqual(["a", "b", "c"]);
    // After the kill, b answers no more.
    expect(answers.slice(-50).some((a) => a.upstream === "b")).toBe(false);
  });

  it("answers from the last good popular list when every upstream is down", async () => {
    const a = await stub({ name: "a", ids: ["m1", "m2", "m3"] });
    const b = await stub({ name: "b", ids: ["m2", "m3", "m4"] });
    const { router, url } = await routerOver([a.url, b.url], [], { healthCheck: { intervalMs: 100 } });
    for (let u = 0; u < 20; u++) expect((await recommend(url, u)).status).toBe(200);
    await Promise.all([a.close(), b.close()]);
    const down = await recommend(url, 7);
    expect(down).toMatchObject({ status: 200, release: "fallback" });
    expect(down.body.split(",").slice(0, 2).sort()).toEqual(["m2", "m3"]);
    await until(() => router.state().upstreams.every((u) => !u.healthy));
    expect(await recommend(url, 8)).toMatchObject({ status: 200, release: "fallback" });
    expect(await router.metrics()).toMatch(/recsys_router_fallback_total [1-9]/);
  });

  it("answers 502 when nothing is up and nothing was ever served", async () => {
    const { url } = await routerOver([await deadPort()]);
    const res = await recommend(url, 1);
    expect(res.status).toBe(502);
    expect(res.body).toMatch(/no upstream answered/);
  });
});
