import { describe, expect, it } from "vitest";
import { RatingBuilder, rowsByUser } from "./ratings.ts";
import { splitRatings } from "./split.ts";

/** 3 users with 10, 5 and 1 ratings; rating time = movie row, so "latest" is the highest rows. */
function fixture() {
  const b = new RatingBuilder();
  [10, 5, 1].forEach((count, u) => { for (let i = 0; i < count; i++) b.push(u, i, 1 + (i % 5), Date.UTC(2026, 0, 1 + ((i * 7) % count))); });
  return b.finish();
}

describe("splitRatings", () => {
  it("time: holds out each user's most recent ratings, floor(n x fraction), keeping one to train on", () => {
    const s = fixture();
    const { train, test } = splitRatings(s, 3, { mode: "time", fraction: 0.2, seed: 1 });
    expect(train.length + test.length).toBe(16);
    const held = Array.from({ length: test.length }, (_, r) => [test.users[r], test.times[r]]);
    // user 0: 2 of 10 held out, user 1: 1 of 5, user 2 (1 rating): none.
    expect(held.filter(([u]) => u === 0)).toHaveLength(2);
    expect(held.filter(([u]) => u === 1)).toHaveLength(1);
    expect(held.filter(([u]) => u === 2)).toHaveLength(0);
    for (const [u, t] of held) {
      for (let r = 0; r < train.length; r++) if (train.users[r] === u) expect(train.times[r]).toBeLessThanOrEqual(t!);
    }
  });

  it("random: same seed same split, another seed another split, same per-user counts", () => {
    const s = fixture();
    const a = splitRatings(s, 3, { mode: "random", fraction: 0.4, seed: 7 });
    const b = splitRatings(s, 3, { mode: "random", fraction: 0.4, seed: 7 });
    const c = splitRatings(s, 3, { mode: "random", fraction: 0.4, seed: 8 });
    expect([...a.test.items]).toEqual([...b.test.items]);
    expect([...a.test.users]).toEqual([4, 2].flatMap((n, u) => Array(n).fill(u)));
    expect([...a.test.items]).not.toEqual([...c.test.items]);
  });

  it("groups rows by user in file order", () => {
    const { offsets, order } = rowsByUser(fixture(), 3);
    expect([...offsets]).toEqual([0, 10, 15, 16]);
    expect([...order.subarray(10, 15)]).toEqual([10, 11, 12, 13, 14]);
  });
});
