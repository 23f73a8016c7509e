import { describe, expect, it } from "vitest";
import { createPopularList, SLOT_BYTES } from "../src/popular.ts";

const answer = (ids: string[]) => Buffer.from(ids.join(","), "utf8");
const record = (list: ReturnType<typeof createPopularList>, ids: string[]) => {
  // Recorded from the middle of a larger buffer, as the router records an upstream's answer.
  const bytes = Buffer.concat([Buffer.from("  "), answer(ids), Buffer.from("\n")]);
  list.record(bytes, 2, bytes.length - 1);
};

describe("popular list", () => {
  it("answers the seed before any answer, null without one", () => {
    expect(createPopularList({ window: 4, size: 2, seed: ["s1", "s2", "s3"] }).current(0)).toBe("s1,s2");
    expect(createPopularList({ window: 4, size: 2, seed: [] }).current(0)).toBeNull();
  });

  it("counts ids over the last `window` answers, earlier positions breaking ties", () => {
    const list = createPopularList({ window: 3, size: 3, seed: [], ttlMs: 0 });
    record(list, ["old", "x"]);
    record(list, ["b", "a"]);
    record(list, ["a", "b"]);
    record(list, ["a", "c"]);
    // "old" fell out of the window; a is in all three; b (twice) beats c (once).
    expect(list.current(1)).toBe("a,b,c");
  });

  it("keeps UTF-8 ids intact", () => {
    const list = createPopularList({ window: 2, size: 2, seed: [], ttlMs: 0 });
    record(list, ["amélie+2001", "東京+1953"]);
    expect(list.current(1)).toBe("amélie+2001,東京+1953");
  });

  it("keeps the leading ids of an answer longer than a slot, cut at a comma", () => {
    const list = createPopularList({ window: 2, size: 100, seed: [], ttlMs: 0 });
    const ids = Array.from({ length: 60 }, (_, i) => `movie+number+${String(i).padStart(2, "0")}`);
    record(list, ids);
    const kept = list.current(1)!.split(",");
    expect(kept.length).toBeGreaterThan(10);
    expect(kept.join(",").length).toBeLessThanOrEqual(SLOT_BYTES);
    expect(kept).toEqual(ids.slice(0, kept.length));
  });

  it("recounts at most once per ttl while answers arrive", () => {
    const list = createPopularList({ window: 4, size: 1, seed: [], ttlMs: 1000 });
    record(list, ["a"]);
    expect(list.current(0)).toBe("a");
    record(list, ["b"]);
    record(list, ["b"]);
    expect(list.current(500)).toBe("a");
    expect(list.current(1000)).toBe("b");
  });
});
