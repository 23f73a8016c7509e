import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { parseEventLine } from "@recsys/ingest";
import { startStubUpstream, type StubUpstream } from "@recsys/router";
import { recommend, startRouter } from "./helpers.ts";

let dir: string;
let ups: StubUpstream[] = [];
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "router-log-"));
  ups = await Promise.all([startStubUpstream({ name: "s", ids: ["a+1", "b+2"] }), startStubUpstream({ name: "c", ids: ["c+3"] })]);
});
afterEach(async () => {
  await Promise.all(ups.map((u) => u.close()));
  await rm(dir, { recursive: true, force: true });
});

const releases = () => [
  { id: "v1", role: "stable" as const, upstreams: [ups[0].url], weight: 50 },
  { id: "v2", role: "canary" as const, upstreams: [ups[1].url], weight: 50 },
];

describe("event log", () => {
  it("writes one stream request line per request, off the request path, and which release served it", async () => {
    const path = join(dir, "logs", "events.log");
    const { router, url } = await startRouter(releases(), { serverName: "router-test:8082", eventLog: { path, flushMs: 60_000 } });
    const served = new Map<string, string>();
    for (let u = 1; u <= 30; u++) served.set(String(u), (await recommend(url, u)).release);
    // Nothing is written until a flush (timer or close).
    await expect(readFile(path, "utf8")).rejects.toThrow();
    await router.close();

    const lines = (await readFile(path, "utf8")).trimEnd().split("\n");
    expect(lines).toHaveLength(30);
    for (const line of lines) {
      const ev = parseEventLine(line);
      expect(ev, line).toMatchObject({ kind: "request", server: "router-test:8082", status: 200 });
      if (!("kind" in ev) || ev.kind !== "request") continue;
      expect(ev.result).toBe(served.get(String(ev.userId)) === "v1" ? "a+1|b+2" : "c+3");
    }
    const csv = (await readFile(`${path}.releases.csv`, "utf8")).trimEnd().split("\n");
    expect(csv[0]).toBe("time,user_id,release,upstream,status,latency_ms,attempts");
    expect(csv).toHaveLength(31);
    for (const row of csv.slice(1)) {
      const [, user, release, upstream, status] = row.split(",");
      expect(release).toBe(served.get(user));
      expect(upstream).toBe(release === "v1" ? ups[0].url : ups[1].url);
      expect(status).toBe("200");
    }
  });

  it("logs the canonical user id, and refuses ids that are not user ids without logging them", async () => {
    const path = join(dir, "events.log");
    const { router, url } = await startRouter(releases(), { eventLog: { path, flushMs: 60_000 } });
    for (const bad of ["a,b", "1,2", "-1"]) expect((await fetch(`${url}/recommend/${bad}`)).status).toBe(400);
    expect((await fetch(`${url}/recommend/${"1".repeat(10_000)}`)).status).toBe(414);
    expect((await fetch(`${url}/recommend/%30%32`)).status).toBe(200);
    await router.close();
    const lines = (await readFile(path, "utf8")).trimEnd().split("\n");
    expect(lines.map((l) => parseEventLine(l))).toEqual([expect.objectContaining({ kind: "request", userId: 2, status: 200 })]);
    const [, row, extra] = (await readFile(`${path}.releases.csv`, "utf8")).trimEnd().split("\n");
    expect(row).toMatch(/^[^,]+,2,v[12],http:\/\/127\.0\.0\.1:\d+,200,\d+,1$/);
    expect(extra).toBeUndefined();
  });

  it("logs failures with their status and an error text", async () => {
    const path = join(dir, "events.log");
    ups[1].set({ status: 500 });
    ups[0].set({ status: 500 });
    const { router, url } = await startRouter(releases(), { eventLog: { path, flushMs: 50 }, healthCheck: { intervalMs: 60_000 } });
    expect((await recommend(url, 1)).status).toBe(500);
    await router.close();
    const ev = parseEventLine((await readFile(path, "utf8")).trimEnd());
    expect(ev).toMatchObject({ kind: "request", userId: 1, status: 500, result: expect.stringMatching(/^stub [sc] failing$/) });
  });
});

describe("metrics", () => {
  it("exposes requests, errors and latency per release, one registry per router", async () => {
    const one = await startRouter(releases());
    const two = await startRouter(releases());
    try {
      for (let u = 1; u <= 20; u++) await recommend(one.url, u);
      const res = await fetch(`${one.adminUrl}/metrics`);
      expect(res.headers.get("content-type")).toMatch(/^text\/plain/);
      const text = await res.text();
      const count = (name: string, release: string) => Number(new RegExp(`^${name}\\{release="${release}"\\} (\\d+)`, "m").exec(text)?.[1] ?? 0);
      expect(count("recsys_router_requests_total", "v1") + count("recsys_router_requests_total", "v2")).toBe(20);
      expect(count("recsys_router_request_duration_seconds_count", "v1")).toBe(count("recsys_router_requests_total", "v1"));
      expect(text).toMatch(/^recsys_router_weight\{release="v2"\} 50$/m);
      expect(text).toMatch(/^# TYPE recsys_router_errors_total counter$/m);
      // Latency buckets are cumulative and end in +Inf = the request count.
      const buckets = [...text.matchAll(/^recsys_router_request_duration_seconds_bucket\{release="v1",le="([^"]+)"\} (\d+)$/gm)].map((m) => [m[1], Number(m[2])] as const);
      expect(buckets.at(-1)).toEqual(["+Inf", count("recsys_router_requests_total", "v1")]);
      expect(buckets.every(([, n], i) => i === 0 || n >= buckets[i - 1][1])).toBe(true);
      // The second router counted nothing: registries are not shared.
      const other = await (await fetch(`${two.adminUrl}/metrics`)).text();
      expect(other).toMatch(/^recsys_router_requests_total\{release="v1"\} 0$/m);
      expect(other).not.toMatch(/^recsys_router_requests_total\{release="v\d"\} [1-9]/m);
    } finally {
      await Promise.all([one.router.close(), two.router.close()]);
    }
  });

  it("serves its own /healthz and /readyz, proxies /version to the stable release, and nothing else", async () => {
    const { router, url } = await startRouter(releases());
    try {
      expect((await fetch(`${url}/healthz`)).status).toBe(200);
      expect((await fetch(`${url}/readyz`)).status).toBe(200);
      expect(await (await fetch(`${url}/version`)).json()).toEqual({ release: "s" });
      expect((await fetch(`${url}/recommend/1`, { method: "POST" })).status).toBe(405);
      for (const path of ["/metrics", "/admin/state", "/recommend/1/x", "/other"]) expect((await fetch(`${url}${path}`)).status).toBe(404);
    } finally {
      await router.close();
    }
  });
});
