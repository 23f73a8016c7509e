import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { startStubUpstream, type Router, type StubUpstream } from "@recsys/router";
import { admin, recommend, startRouter, tally } from "./helpers.ts";

let ups: StubUpstream[] = [];
let router: Router;
let url: string;
let adminUrl: string;

beforeEach(async () => {
  ups = await Promise.all(["s1", "s2", "c1"].map((name) => startStubUpstream({ name })));
  ({ router, url, adminUrl } = await startRouter([
    { id: "v1", role: "stable", upstreams: [ups[0].url, ups[1].url], weight: 80 },
    { id: "v2", role: "canary", upstreams: [ups[2].url], weight: 20 },
    // Generous tries: these tests count who answered, and a retry on a starved test machine
    // would move a user to another upstream.
  ], { attemptTimeoutMs: 4000, budgetMs: 5000 }));
});
afterEach(async () => {
  await router.close();
  await Promise.all(ups.map((u) => u.close()));
});

describe("routing over HTTP", () => {
  it("splits users 20/40/40 over canary and two stable replicas, sticky per user", async () => {
    // The 10k-user ±2-point check is in assign.test.ts (same code path, no sockets); over HTTP
    // 1000 users and ±4 points keep the suite quick.
    const counts = await tally(url, 1000, (a) => a.upstream);
    expect(Math.abs((counts.get("c1") ?? 0) / 10 - 20)).toBeLessThanOrEqual(4);
    expect(Math.abs((counts.get("s1") ?? 0) / 10 - 40)).toBeLessThanOrEqual(4);
    expect(Math.abs((counts.get("s2") ?? 0) / 10 - 40)).toBeLessThanOrEqual(4);
    for (const user of [1, 2, 3, 17, 99]) {
      const first = (await recommend(url, user)).release;
      for (let i = 0; i < 5; i++) expect((await recommend(url, user)).release).toBe(first);
    }
  });
});

describe("admin API", () => {
  it("answers 401 without the token, with a wrong one, and when none is configured", async () => {
    expect((await admin(adminUrl, "GET", "/admin/state", undefined, null)).status).toBe(401);
    const wrong = await admin(adminUrl, "POST", "/admin/rollback", undefined, "nope");
    expect(wrong.status).toBe(401);
    expect(wrong.json.error.code).toBe("ROUTER_UNAUTHORIZED");
    expect(router.state().releases[1].weight).toBe(20);
    const open = await startRouter([{ id: "v1", role: "stable", upstreams: [ups[0].url], weight: 100 }], { adminToken: undefined });
    try {
      expect((await admin(open.adminUrl, "GET", "/admin/state")).status).toBe(401);
    } finally {
      await open.router.close();
    }
  });

  it("answers 400 to bad input and leaves the state unchanged", async () => {
    const before = (await admin(adminUrl, "GET", "/admin/state")).json;
    for (const body of ["{not json", { canary: 120 }, { weights: { v1: 70, v2: 20 } }, { weights: { v3: 0 } }, { canary: 20, extra: 1 }, { weights: { v1: 79.5, v2: 20.5 } }]) {
      const res = await admin(adminUrl, "POST", "/admin/weights", body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.json.error.code).toMatch(/^ROUTER_BAD_/);
    }
    expect((await admin(adminUrl, "POST", "/admin/upstreams", { release: "v2", upstreams: ["not a url"] })).status).toBe(400);
    expect((await admin(adminUrl, "GET", "/admin/state")).json).toEqual(before);
    expect((await admin(adminUrl, "GET", "/admin/nothing")).status).toBe(404);
  });

  it("changes weights at run time: canary 100 sends every user to the canary", async () => {
    const res = await admin(adminUrl, "POST", "/admin/weights", { weights: { v1: 0, v2: 100 } });
    expect(res.status).toBe(200);
    expect(res.json.releases.map((r: { weight: number }) => r.weight)).toEqual([0, 100]);
    const counts = await tally(url, 200, (a) => a.release);
    expect(counts.get("v2")).toBe(200);
  });

  it("rollback: canary weight 0 at once, all users on stable", async () => {
    const res = await admin(adminUrl, "POST", "/admin/rollback");
    expect(res.status).toBe(200);
    expect(res.json.releases).toMatchObject([{ id: "v1", weight: 100 }, { id: "v2", role: "canary", weight: 0 }]);
    expect((await tally(url, 300, (a) => a.release)).get("v1")).toBe(300);
    expect((await admin(adminUrl, "POST", "/admin/weights", { canary: 10 })).status).toBe(200);
  });

  it("promote: the canary's release becomes stable with all traffic; the old one is retired", async () => {
    const res = await admin(adminUrl, "POST", "/admin/promote");
    expect(res.status).toBe(200);
    expect(res.json.releases).toEqual([{ id: "v2", role: "stable", upstreams: [ups[2].url], weight: 100 }]);
    expect(res.json.retired.id).toBe("v1");
    expect((await tally(url, 200, (a) => a.upstream)).get("c1")).toBe(200);
    expect((await admin(adminUrl, "POST", "/admin/promote")).status).toBe(409);
    // The deploy package then brings replicas of the new release back in.
    const grown = await admin(adminUrl, "POST", "/admin/upstreams", { release: "v2", upstreams: [ups[2].url, ups[0].url] });
    expect(grown.status).toBe(200);
    expect(grown.json.generation).toBe(res.json.generation + 1);
  });

  it("adds a new canary through /admin/releases", async () => {
    const releases = [
      { id: "v2", role: "stable", upstreams: [ups[0].url, ups[1].url], weight: 90 },
      { id: "v3", role: "canary", upstreams: [ups[2].url], weight: 10 },
    ];
    expect((await admin(adminUrl, "POST", "/admin/releases", { releases })).json.releases).toEqual(releases);
    expect((await admin(adminUrl, "POST", "/admin/releases", { releases: [] })).status).toBe(400);
  });
});
