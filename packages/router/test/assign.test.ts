import { describe, expect, it } from "vitest";
import { applyWeights, assignRelease, BUCKETS, rollback, userBucket, type Release } from "@recsys/router";

const releases: Release[] = [
  { id: "v1", role: "stable", upstreams: ["http://127.0.0.1:1", "http://127.0.0.1:2"], weight: 80 },
  { id: "v2", role: "canary", upstreams: ["http://127.0.0.1:3"], weight: 20 },
];

function split(rels: Release[], users: number): Record<string, number> {
  const counts: Record<string, number> = {};
  for (let u = 1; u <= users; u++) {
    const id = assignRelease(rels, String(u)).id;
    counts[id] = (counts[id] ?? 0) + 1;
  }
  return counts;
}

describe("sticky assignment", () => {
  it("splits 10k users within ±2 points of the weights", () => {
    for (const canary of [20, 50, 5]) {
      const counts = split(applyWeights(releases, { canary }), 10_000);
      expect(Math.abs((counts.v2 ?? 0) / 100 - canary)).toBeLessThanOrEqual(2);
      expect(Math.abs((counts.v1 ?? 0) / 100 - (100 - canary))).toBeLessThanOrEqual(2);
    }
  });

  it("splits random-looking ids as well as sequential ones", () => {
    let canary = 0;
    for (let i = 0; i < 10_000; i++) if (assignRelease(releases, String(100_000 + i * 7919)).id === "v2") canary++;
    expect(Math.abs(canary / 100 - 20)).toBeLessThanOrEqual(2);
  });

  it("keeps a user in one bucket, and canary users stay canary as its weight grows", () => {
    expect(userBucket("4242")).toBe(userBucket("4242"));
    expect(userBucket("4242")).toBeLessThan(BUCKETS);
    const at50 = applyWeights(releases, { canary: 50 });
    for (let u = 1; u <= 2000; u++) {
      if (assignRelease(releases, String(u)).id === "v2") expect(assignRelease(at50, String(u)).id).toBe("v2");
      expect(assignRelease(rollback(releases), String(u)).id).toBe("v1");
    }
  });
});

describe("the bucket function is a fixed contract", () => {
  it("puts named users in the documented buckets, and so in the documented releases", () => {
    // If this fails, users would change groups between router versions: do not update the
    // table, restore the function (README, "Sticky assignment").
    expect(["0", "1", "2", "42", "4242", "1000000", "4294967295"].map(userBucket)).toEqual([6945, 5071, 1135, 6589, 5589, 6372, 8426]);
    // The canary (20%) owns buckets [0, 2000): user 2 is a canary user, user 42 a stable one.
    expect(assignRelease(releases, "2").id).toBe("v2");
    expect(assignRelease(releases, "42").id).toBe("v1");
  });
});
