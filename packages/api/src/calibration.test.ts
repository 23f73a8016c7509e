import { beforeAll, describe, expect, it } from "vitest";
import { loadRecModel, type RecModel } from "@recsys/artifact";
import { modelDir } from "../test/helpers.ts";
import { listKl, oneGenreHistory } from "../test/calibration-helpers.ts";
import { calibratedRerank, calibrationKl, genreDistribution } from "./calibration.ts";
import { recommend } from "./recommend.ts";

let model: RecModel;
beforeAll(async () => {
  model = await loadRecModel(await modelDir({ users: 60, movies: 400, factors: 8, seenPerUser: 30 }));
});

describe("calibration measure", () => {
  it("spreads a movie's weight over its genres and matches Steck's smoothed KL by hand", () => {
    expect([...genreDistribution([0, 1, 2], [["Drama"], ["Drama", "War"], []])]).toEqual([["Drama", 0.75], ["War", 0.25]]);
    const history = new Map([["Drama", 0.5], ["Comedy", 0.5]]);
    expect(calibrationKl(history, new Map([["Drama", 1]]))).toBeCloseTo(0.5 * Math.log(0.5 / 0.995) + 0.5 * Math.log(0.5 / 0.005), 12);
    expect(calibrationKl(history, new Map(history))).toBeCloseTo(0, 12);
  });

  it("re-ranks greedily: lambda 1 trades score for the history's genres", () => {
    const genresOf = [["Comedy"], ["Comedy"], ["Drama"]];
    const history = new Map([["Drama", 1]]);
    expect(calibratedRerank([0, 1, 2], [3, 2, 1], genresOf, history, 0, 2)).toEqual([0, 1]);
    expect(calibratedRerank([0, 1, 2], [3, 2, 1], genresOf, history, 1, 2)).toEqual([2, 0]);
    // Movies without genres (no movies.jsonl row) leave the list's distribution empty, not NaN.
    expect(calibratedRerank([0, 1, 2], [3, 2, 1], [[], [], []], history, 0.5, 2)).toEqual([0, 1]);
  });
});

describe("recommend with calibration", () => {
  it("serves exactly today's list with lambda 0", () => {
    const genres = oneGenreHistory(model);
    for (const row of [0, 5, 59]) {
      const id = model.meta.userIds[row]!;
      expect(recommend(model, id, { calibration: { lambda: 0, candidates: 100, genres } })).toEqual(recommend(model, id));
    }
  });

  it("gives a one-genre user a list closer to their history, unseen, distinct and the same every time", () => {
    const genres = oneGenreHistory(model);
    const id = model.meta.userIds[0]!;
    const plain = recommend(model, id).ids;
    const calibrated = recommend(model, id, { calibration: { lambda: 0.5, candidates: 100, genres } }).ids;
    expect(calibrated).toHaveLength(20);
    expect(new Set(calibrated).size).toBe(20);
    const seen = new Set(Array.from(model.seenItems.subarray(model.seenOffsets[0]!, model.seenOffsets[1]!), (i) => model.meta.movieIds[i]));
    expect(calibrated.filter((m) => seen.has(m))).toEqual([]);
    expect(listKl(model, genres, calibrated)).toBeLessThan(listKl(model, genres, plain));
    expect(recommend(model, id, { calibration: { lambda: 0.5, candidates: 100, genres } }).ids).toEqual(calibrated);
  });
});
