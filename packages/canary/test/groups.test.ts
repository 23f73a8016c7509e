import { describe, expect, it } from "vitest";
import { analyzeCanary, canaryConfig, groupCheck, holm, twoProportionTest, userGroups, type RequestRecord } from "../src/index.ts";
import { indexWatches } from "../src/follow.ts";
import { syntheticTraffic, T0 } from "./synthetic.ts";

describe("Holm correction", () => {
  it("matches the hand-computed step-down values", () => {
    // Sorted 0.01, 0.03, 0.04 -> 0.01*3 = 0.03, 0.03*2 = 0.06, max(0.04*1, 0.06) = 0.06.
    expect(holm([0.01, 0.04, 0.03]).map((p) => +p.toFixed(10))).toEqual([0.03, 0.06, 0.06]);
    expect(holm([0.5, 0.9])).toEqual([1, 1]);
    expect(holm([])).toEqual([]);
  });
});

describe("follow rate per user group", () => {
  const groups = userGroups([
    { user_id: 1, gender: "F", age: 30 }, { user_id: 2, gender: "female", age: 60 }, { user_id: 3, gender: "M", age: 30 }, { user_id: 4 },
  ]);

  it("groups users by gender, age band and age x gender from a users file", () => {
    expect([...groups.keys()]).toEqual(["gender", "age", "age_gender"]);
    expect(groups.get("gender")!.get(2)).toBe("F");
    expect(groups.get("age")!.get(2)).toBe("56+");
    expect(groups.get("age_gender")!.get(1)).toBe("F:25-34");
    expect(groups.get("gender")!.has(4)).toBe(false);
  });

  it("counts follows per group and arm and tests them with the Holm-adjusted two-proportion test", () => {
    // Canary: user 1 (F) 20 requests, never followed; user 3 (M) 20 requests, all followed. Stable: both 20, 10 followed each.
    const requests: RequestRecord[] = [];
    const watches: { timeMs: number; userId: number; movieId: string }[] = [];
    let t = T0;
    for (const [release, user, followed] of [["c", 1, 0], ["c", 3, 20], ["s", 1, 10], ["s", 3, 10]] as const) {
      for (let i = 0; i < 20; i++, t += 1000) {
        requests.push({ timeMs: t, userId: user, release, status: 200, latencyMs: 5, movieIds: [`m${t}`] });
        if (i < followed) watches.push({ timeMs: t + 10, userId: user, movieId: `m${t}` });
      }
    }
    const follow = { index: indexWatches(watches, T0, t + 60_000, requests), followWindowMs: 100, asOfMs: t + 60_000 };
    const config = canaryConfig({ minSamplesPerGroup: 20 });
    const g = groupCheck(requests.filter((r) => r.release === "c"), requests.filter((r) => r.release === "s"), groups, follow, config)!;
    const f = g.groups.find((x) => x.attribute === "gender" && x.group === "F")!;
    expect(f.canary).toMatchObject({ eligible: 20, follows: 0, rate: 0 });
    expect(f.stable).toMatchObject({ eligible: 20, follows: 10, rate: 0.5 });
    // Pooled rate 10/40: 5 expected follows per arm, just enough for the z-test.
    expect(f.test).toEqual(twoProportionTest(0, 20, 10, 20));
    // Tested: gender F, gender M, age 25-34 (users 1 and 3 pooled: 20/40 vs 20/40), age_gender F:25-34, age_gender M:25-34.
    expect(g.tested).toBe(5);
    const tested = g.groups.filter((x) => x.test !== null);
    expect(tested.map((x) => x.pAdjusted)).toEqual(holm(tested.map((x) => x.test!.pValue)));
    expect(g.worse).toEqual(["age_gender=F:25-34", "gender=F"]);
    expect(g.status).toBe("fail");
  });

  it("rolls back a canary better overall but significantly worse for one group, and names the group", () => {
    const traffic = syntheticTraffic([{ id: "canary", share: 1, followProb: 0.4 }, { id: "stable", share: 1, followProb: 0.2 }], 6000, 5);
    const women = new Set(traffic.requests.filter((r) => r.userId % 10 < 3).map((r) => r.userId));
    const users = [...new Set(traffic.requests.map((r) => r.userId))].map((id) => ({ user_id: id, gender: women.has(id) ? "F" : "M", age: 20 + (id % 40) }));
    // The canary serves women badly: none of its recommendations to them is followed.
    const badFor = new Set(traffic.requests.filter((r) => r.release === "canary" && women.has(r.userId)).flatMap((r) => r.movieIds.map((m) => `${r.userId}/${m}`)));
    const watches = traffic.watches.filter((w) => !badFor.has(`${w.userId}/${w.movieId}`));
    const input = { requests: traffic.requests, watches, canary: "canary", windowStartMs: traffic.startMs, windowEndMs: traffic.endMs };
    const overall = analyzeCanary(input);
    expect(overall.tests.quality.diff!).toBeGreaterThan(0);
    expect(overall.verdict).toBe("promote");
    const a = analyzeCanary({ ...input, userGroups: userGroups(users) });
    expect(a.verdict).toBe("rollback");
    expect(a.tests.groups!.worse).toContain("gender=F");
    expect(a.tests.groups!.worse).not.toContain("gender=M");
    expect(a.reasons[0]).toMatch(/^group follow rate: canary significantly WORSE for .*gender=F \(canary 0\.00% of \d+ vs stable/);
  });
});
