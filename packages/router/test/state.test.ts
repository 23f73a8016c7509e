import { describe, expect, it } from "vitest";
import { applyWeights, checkReleases, promote, rollback, setReleaseUpstreams, RouterError, type Release } from "@recsys/router";

const releases: Release[] = [
  { id: "v1", role: "stable", upstreams: ["http://127.0.0.1:1", "http://127.0.0.1:2"], weight: 80 },
  { id: "v2", role: "canary", upstreams: ["http://127.0.0.1:3"], weight: 20 },
];

function refusal(fn: () => unknown): RouterError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(RouterError);
    return err as RouterError;
  }
  throw new Error("expected a refusal");
}

describe("release state model", () => {
  it("sets weights by id or by canary share, always summing to 100", () => {
    expect(applyWeights(releases, { weights: { v1: 50, v2: 50 } }).map((r) => r.weight)).toEqual([50, 50]);
    expect(applyWeights(releases, { canary: 35 }).map((r) => r.weight)).toEqual([65, 35]);
    expect(refusal(() => applyWeights(releases, { weights: { v1: 90 } })).status).toBe(400);
    expect(refusal(() => applyWeights(releases, { weights: { v9: 0 } })).code).toBe("ROUTER_BAD_STATE");
    expect(releases[0].weight).toBe(80); // inputs untouched
  });

  it("rollback puts the canary at 0 and its share back on stable", () => {
    const back = rollback(releases);
    expect(back.map((r) => [r.id, r.role, r.weight])).toEqual([["v1", "stable", 100], ["v2", "canary", 0]]);
  });

  it("promote makes the canary the stable release and retires the old one", () => {
    const { releases: next, retired } = promote(releases);
    expect(next).toEqual([{ id: "v2", role: "stable", upstreams: ["http://127.0.0.1:3"], weight: 100 }]);
    expect(retired.id).toBe("v1");
    expect(refusal(() => promote(next)).status).toBe(409);
    expect(refusal(() => rollback(next)).code).toBe("ROUTER_NO_CANARY");
  });

  it("replaces a release's upstreams, normalising URLs and refusing shared or empty ones", () => {
    expect(setReleaseUpstreams(releases, "v2", ["http://127.0.0.1:4/"])[1].upstreams).toEqual(["http://127.0.0.1:4"]);
    expect(refusal(() => setReleaseUpstreams(releases, "v2", ["http://127.0.0.1:1"])).status).toBe(400);
    expect(refusal(() => setReleaseUpstreams(releases, "v2", [])).message).toMatch(/no upstreams/);
    expect(refusal(() => setReleaseUpstreams(releases, "v2", ["ftp://x:1"])).status).toBe(400);
  });

  it("refuses release lists that break an invariant", () => {
    expect(refusal(() => checkReleases([{ ...releases[0], weight: 100 }, { ...releases[1], role: "stable", weight: 0 }])).message).toMatch(/exactly one stable/);
    expect(refusal(() => checkReleases([{ ...releases[0], weight: 100.5 }])).status).toBe(400);
  });
});
