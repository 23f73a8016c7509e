import { describe, expect, it } from "vitest";
import { analyzeCanary, CANARY_ERROR, type AnalyzeCanaryInput } from "../src/index.ts";
import { syntheticTraffic, T0, type SyntheticRelease } from "./synthetic.ts";

const STABLES: SyntheticRelease[] = [{ id: "r1", share: 0.4 }, { id: "r2", share: 0.4 }];

function run(canary: Omit<SyntheticRelease, "id" | "share">, n = 10_000, extra: Partial<AnalyzeCanaryInput> = {}) {
  const t = syntheticTraffic([{ id: "c", share: 0.2, ...canary }, ...STABLES], n);
  return analyzeCanary({ requests: t.requests, watches: t.watches, canary: "c", windowStartMs: t.startMs, windowEndMs: t.endMs, ...extra });
}

describe("analyzeCanary verdicts", () => {
  it("promotes a healthy canary", () => {
    const a = run({});
    expect(a.verdict).toBe("promote");
    expect(a.stable).toEqual(["r1", "r2"]);
    expect(Object.keys(a.perRelease)).toEqual(["c", "r1", "r2"]);
    expect(a.tests.availability.status).toBe("pass");
    expect(a.tests.latency.status).toBe("pass");
    expect(a.tests.quality).toMatchObject({ status: "pass", significantWorse: false });
    expect(a.arms.stable.requests).toBe(a.perRelease.r1!.requests + a.perRelease.r2!.requests);
  });

  it("rolls back an erroring canary on availability", () => {
    const a = run({ errorRate: 0.05 });
    expect(a.verdict).toBe("rollback");
    expect(a.tests.availability.status).toBe("fail");
    expect(a.reasons[0]).toMatch(/^availability/);
  });

  it("rolls back a slow canary on p99", () => {
    const a = run({ slowShare: 0.03, slowMs: 900 });
    expect(a.verdict).toBe("rollback");
    expect(a.tests.latency).toMatchObject({ status: "fail", canary: 900 });
    expect(a.tests.availability.status).toBe("pass");
  });

  it("rolls back a canary with significantly worse follow rate", () => {
    const a = run({ followProb: 0.12 });
    expect(a.verdict).toBe("rollback");
    expect(a.tests.quality.status).toBe("fail");
    expect(a.tests.quality.diff!).toBeLessThan(0);
    expect(a.tests.quality.pValue!).toBeLessThan(0.05);
    expect(a.tests.quality.ci95![1]).toBeLessThan(0);
  });

  it("continues with too few samples, even when the few look bad", () => {
    const a = run({ errorRate: 0.1 }, 300);
    expect(a.arms.canary.requests).toBeLessThan(100);
    expect(a.verdict).toBe("continue");
    expect(a.tests.availability.status).toBe("insufficient");
  });

  it("continues when requests suffice but the quality test lacks samples", () => {
    const a = run({}, 10_000, { config: { minSamplesForQuality: 5000 } });
    expect(a.verdict).toBe("continue");
    expect(a.tests.quality.status).toBe("insufficient");
  });

  it("waits for minRequests canary requests before promoting, even when every check passes", () => {
    const passing = run({});
    const n = passing.arms.canary.requests;
    const short = run({}, 10_000, { config: { minRequests: n + 1 } });
    expect(short.tests.availability.status).toBe("pass");
    expect(short.tests.latency.status).toBe("pass");
    expect(short.tests.quality.status).toBe("pass");
    expect(short.verdict).toBe("continue");
    expect(short.reasons[0]).toBe(`only ${n} canary requests, need ${n + 1} to promote`);
    expect(run({}, 10_000, { config: { minRequests: n } }).verdict).toBe("promote");
  });

  it("continues without any canary traffic", () => {
    const t = syntheticTraffic(STABLES, 1000);
    const a = analyzeCanary({ requests: t.requests, watches: t.watches, canary: "c", windowStartMs: t.startMs, windowEndMs: t.endMs });
    expect(a.verdict).toBe("continue");
    expect(a.perRelease.c).toMatchObject({ requests: 0, successRate: null, p99: null, followRate: null });
  });
});

describe("analyzeCanary inputs", () => {
  const t = syntheticTraffic([{ id: "c", share: 0.2 }, ...STABLES], 2000);
  const base = { requests: t.requests, watches: t.watches, canary: "c", windowStartMs: t.startMs, windowEndMs: t.endMs };

  it("compares with the listed stable releases only", () => {
    const a = analyzeCanary({ ...base, stable: ["r1"] });
    expect(a.stable).toEqual(["r1"]);
    expect(a.arms.stable.requests).toBe(a.perRelease.r1!.requests);
  });

  it("keeps to the window", () => {
    const a = analyzeCanary({ ...base, windowStartMs: T0, windowEndMs: T0 + 600_000 });
    const inWindow = t.requests.filter((r) => r.timeMs < T0 + 600_000).length;
    expect(Object.values(a.perRelease).reduce((s, r) => s + r.requests, 0)).toBe(inWindow);
    expect(a.timeSeries.bucketStartsMs.length).toBeLessThanOrEqual(30);
    expect(a.timeSeries.perRelease.c!.p99.length).toBe(a.timeSeries.bucketStartsMs.length);
  });

  it("rejects bad config and releases with coded errors", () => {
    expect(() => analyzeCanary({ ...base, config: { maxP99: 300 } as never })).toThrow(expect.objectContaining({ code: CANARY_ERROR.badConfig }));
    expect(() => analyzeCanary({ ...base, config: { minSuccessRate: 2 } })).toThrow(expect.objectContaining({ code: CANARY_ERROR.badConfig }));
    expect(() => analyzeCanary({ ...base, stable: ["c"] })).toThrow(expect.objectContaining({ code: CANARY_ERROR.badReleases }));
    expect(() => analyzeCanary({ ...base, windowEndMs: base.windowStartMs })).toThrow(expect.objectContaining({ code: CANARY_ERROR.badWindow }));
  });

  it("gives a JSON-safe result", () => {
    const a = analyzeCanary(base);
    expect(JSON.parse(JSON.stringify(a))).toEqual(a);
  });
});

describe("follow scoring", () => {
  const req = (timeMs: number, userId: number, movieIds: string[], status = 200) => ({ timeMs, userId, release: "c", status, latencyMs: 10, movieIds });
  const minute = 60_000;
  it("counts a watch of a recommended movie within the follow window, after the request", () => {
    const requests = [
      req(T0, 1, ["a", "b"]),              // b watched 5 min later: followed
      req(T0, 2, ["a", "b"]),              // c watched: not a recommended movie
      req(T0, 3, ["a"]),                   // a watched 11 min later: too late
      req(T0 + 2 * minute, 4, ["a"]),      // a watched 1 min before: not a follow
      req(T0, 5, [], 0),                   // failed: not scored
      req(T0 + 50 * minute, 6, ["a"]),     // its follow window is not over by asOf: not scored
    ];
    const watches = [
      { timeMs: T0 + 5 * minute, userId: 1, movieId: "b" },
      { timeMs: T0 + 5 * minute, userId: 2, movieId: "c" },
      { timeMs: T0 + 11 * minute, userId: 3, movieId: "a" },
      { timeMs: T0 + minute, userId: 4, movieId: "a" },
      { timeMs: T0 + 55 * minute, userId: 6, movieId: "a" },
    ];
    const a = analyzeCanary({ requests, watches, canary: "c", windowStartMs: T0, windowEndMs: T0 + 60 * minute });
    expect(a.window.asOfMs).toBe(T0 + 55 * minute);
    expect(a.perRelease.c).toMatchObject({ requests: 6, successes: 5, followEligible: 4, follows: 1, followRate: 0.25 });
  });
});

describe("a watch follows the last list its user was shown", () => {
  it("counts it for the user's latest request only, never for the lists before it", () => {
    const minute = 60_000;
    const req = (timeMs: number, userId: number, movieIds: string[]) => ({ timeMs, userId, release: "c", status: 200, latencyMs: 10, movieIds });
    // User 7 asks four times a minute apart; the follow window (10 min) spans all four. Each
    // watch counts for the list just before it: a watch after the user asked again is not the
    // earlier list's success, even when that list held the movie too.
    const requests = [
      req(T0, 7, ["a", "b"]),              // b is watched, but after the next request: not a follow
      req(T0 + minute, 7, ["b"]),          // b watched 30 s later: followed
      req(T0 + 2 * minute, 7, ["c"]),      // nothing of its list watched before the next request
      req(T0 + 3 * minute, 7, ["d", "c"]), // c watched 1 min later: followed
      req(T0 + 3 * minute, 8, ["x"]),      // another user's requests do not close user 7's windows
      req(T0 + 4 * minute, 8, ["y"]),
    ];
    const watches = [
      { timeMs: T0 + 1.5 * minute, userId: 7, movieId: "b" },
      { timeMs: T0 + 4 * minute, userId: 7, movieId: "c" },
      { timeMs: T0 + 6 * minute, userId: 8, movieId: "x" }, // after user 8 asked again: not a follow
      { timeMs: T0 + 20 * minute, userId: 9, movieId: "z" }, // sets asOf past every window
    ];
    const a = analyzeCanary({ requests, watches, canary: "c", windowStartMs: T0, windowEndMs: T0 + 5 * minute, config: { followWindowMs: 10 * minute } });
    expect(a.perRelease.c).toMatchObject({ requests: 6, followEligible: 6, follows: 2 });
  });
});

describe("quality without follows", () => {
  it("stays insufficient when no watch events exist, instead of passing on two zero rates", () => {
    const t = syntheticTraffic([{ id: "c", share: 0.2 }, ...STABLES], 10_000);
    const a = analyzeCanary({ requests: t.requests, watches: [], canary: "c", windowStartMs: t.startMs, windowEndMs: t.endMs });
    expect(a.tests.quality).toMatchObject({ status: "insufficient", significantWorse: false });
    expect(a.verdict).toBe("continue");
    expect(a.reasons.some((r) => r.includes("too few follows"))).toBe(true);
  });
});

describe("availability", () => {
  it("counts answered 4xx as success and no answer or 5xx as failure", () => {
    const requests = [200, 404, 400, 503, 500, 0].map((status, i) => ({ timeMs: T0 + i, userId: i, release: "c", status, latencyMs: 5, movieIds: status === 200 ? ["a"] : [] }));
    const a = analyzeCanary({ requests, watches: [], canary: "c", windowStartMs: T0, windowEndMs: T0 + 10 });
    expect(a.perRelease.c).toMatchObject({ requests: 6, successes: 3, successRate: 0.5 });
  });
});
