import { describe, expect, it, beforeAll } from "vitest";
import { loadRecModel, type RecModel } from "@recsys/artifact";
import { modelDir } from "../test/helpers.ts";
import { parseUserId, recommend } from "./recommend.ts";
import { servingIndex } from "./serving-index.ts";

let model: RecModel;
beforeAll(async () => {
  model = await loadRecModel(await modelDir({ users: 100, movies: 400, factors: 8, seenPerUser: 30, sideOnlyUsers: 10 }));
});

const seenOf = (m: RecModel, row: number) => new Set(Array.from(m.seenItems.subarray(m.seenOffsets[row], m.seenOffsets[row + 1]), (i) => m.meta.movieIds[i]));

describe("recommend", () => {
  it("gives known users 20 distinct unseen movies in model-score order", () => {
    for (const row of [0, 7, 99]) {
      const { ids, source } = recommend(model, model.meta.userIds[row]!);
      expect(source).toBe("model");
      expect(ids).toHaveLength(20);
      expect(new Set(ids).size).toBe(20);
      const seen = seenOf(model, row);
      expect(ids.filter((id) => seen.has(id))).toEqual([]);
      // Same as a full sort over all unseen items.
      const k = model.k;
      const score = (i: number) => { let s = model.itemBias[i]!; for (let f = 0; f < k; f++) s += model.userFactors[row * k + f]! * model.itemFactors[i * k + f]!; return s; };
      const expected = model.meta.movieIds.map((id, i) => ({ id, s: score(i) })).filter((x) => !seen.has(x.id)).sort((a, b) => b.s - a.s).slice(0, 20).map((x) => x.id);
      expect(ids).toEqual(expected);
    }
  });

  it("with a popularity prior, ranks by score + prior x ln(1 + popularity); a large prior gives the popular unseen movies", () => {
    const row = 7, user = model.meta.userIds[row]!, k = model.k, seen = seenOf(model, row);
    const score = (i: number, prior: number) => {
      let s = model.itemBias[i]! + prior * Math.log1p(model.itemPopularity[i]!);
      for (let f = 0; f < k; f++) s += model.userFactors[row * k + f]! * model.itemFactors[i * k + f]!;
      return s;
    };
    const top = (prior: number) => model.meta.movieIds.map((id, i) => ({ id, s: score(i, prior) })).filter((x) => !seen.has(x.id))
      .sort((a, b) => b.s - a.s).slice(0, 20).map((x) => x.id);
    const plain = recommend(model, user).ids, weighted = recommend(model, user, { popularityPrior: 1 }).ids;
    expect(weighted).toEqual(top(1));
    expect(weighted).not.toEqual(plain);
    expect(recommend(model, user, { popularityPrior: 0 }).ids).toEqual(plain); // the index recomputes when the prior changes
    const byPopularity = model.meta.movieIds.map((id, i) => ({ id, p: model.itemPopularity[i]! })).filter((x) => !seen.has(x.id))
      .sort((a, b) => b.p - a.p).slice(0, 5).map((x) => x.id);
    expect(recommend(model, user, { popularityPrior: 10 }).ids.slice(0, 5)).toEqual(byPopularity);
  });

  it("answers unknown users from popularity, by group when side information places them", () => {
    const popular = recommend(model, 1);
    expect(popular.source).toBe("popular");
    expect(popular.ids).toHaveLength(20);
    const byPop = model.meta.movieIds.map((id, i) => ({ id, p: model.itemPopularity[i]! })).sort((a, b) => b.p - a.p);
    expect(popular.ids[0]).toBe(byPop[0]!.id);
    // sideOnlyUsers have odd ids from 2 * users + 1, groups alternating.
    const withGroup = recommend(model, 201);
    expect(withGroup.source).toBe("group");
    expect(withGroup.ids).toHaveLength(20);
    expect(withGroup.ids).not.toEqual(popular.ids);
    expect(recommend(model, 4_294_967_295).source).toBe("popular");
  });

  it("fills the exploration share from the less-exposed half, after slot 0, deterministically per day", () => {
    const user = model.meta.userIds[3]!;
    const plain = recommend(model, user).ids;
    const a = recommend(model, user, { exploreShare: 0.1, day: "2026-12-01" });
    expect(a.ids).toHaveLength(20);
    expect(a.exploreSlots).toHaveLength(2);
    expect(a.exploreSlots[0]).toBeGreaterThan(0);
    const lessExposed = new Set(Array.from(servingIndex(model).lessExposed, (i) => model.meta.movieIds[i]));
    const seen = seenOf(model, 3);
    for (const slot of a.exploreSlots) {
      const id = a.ids[slot]!;
      expect(lessExposed.has(id)).toBe(true);
      expect(plain).not.toContain(id);
      expect(seen.has(id)).toBe(false);
    }
    // The other 18 are the model's top 18 in order.
    expect(a.ids.filter((_, p) => !a.exploreSlots.includes(p))).toEqual(plain.slice(0, 18));
    expect(recommend(model, user, { exploreShare: 0.1, day: "2026-12-01" })).toEqual(a);
    const days = ["2026-12-02", "2026-12-03", "2026-12-04"].map((day) => recommend(model, user, { exploreShare: 0.1, day }).ids.join());
    expect(days.some((d) => d !== a.ids.join())).toBe(true);
    expect(recommend(model, user, { exploreShare: 0.25, day: "x" }).exploreSlots).toHaveLength(5);
    expect(recommend(model, 1, { exploreShare: 0.1, day: "x" }).exploreSlots).toHaveLength(2);
  });

  it("returns fewer than 20 only when the catalogue is smaller, never none", async () => {
    const tiny = await loadRecModel(await modelDir({ users: 3, movies: 5, factors: 2, seenPerUser: 5, sideOnlyUsers: 0 }));
    // Every known user has seen all 5: fall back to popularity rather than answer nothing.
    expect(recommend(tiny, 0).ids).toHaveLength(5);
    expect(recommend(tiny, 1).ids).toHaveLength(5);
    expect(recommend(tiny, 1, { exploreShare: 0.5, day: "d" }).ids.length).toBeGreaterThan(0);
  });
});

describe("parseUserId", () => {
  it("accepts 0..2^32-1 in plain digits only", () => {
    expect(parseUserId("0")).toBe(0);
    expect(parseUserId("007")).toBe(7);
    expect(parseUserId("4294967295")).toBe(4294967295);
    for (const bad of ["", "abc", "-1", "1.5", "+1", " 1", "1e3", "4294967296", "99999999999999999999", "١٢", "0x10"]) expect(parseUserId(bad)).toBe(-1);
  });
});
