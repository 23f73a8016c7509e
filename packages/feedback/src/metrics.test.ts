import { describe, expect, it } from "vitest";
import { coverage, gini, homogenisation, rmseByGroup, topShare, utilityPerVisit } from "./metrics.ts";
import { parseEpsilonList } from "./options.ts";
import { withPush } from "./push.ts";
import { aggregate } from "./experiment.ts";
import type { RoundMetrics, RunResult } from "./loop.ts";

describe("loop metrics against hand-computed values", () => {
  it("gini: 0 for equal exposure, (n-1)/n for one movie taking all, 0.25 for 1,2,3,4", () => {
    expect(gini([3, 3, 3, 3])).toBe(0);
    expect(gini([0, 4, 0, 0])).toBeCloseTo(0.75, 12);
    // mean |xi - xj| over all ordered pairs = 20/16, divided by twice the mean 2.5.
    expect(gini([4, 1, 3, 2])).toBeCloseTo(0.25, 12);
    expect(gini([0, 0])).toBe(0);
  });

  it("coverage: share of the catalogue with any exposure", () => {
    expect(coverage([0, 2, 0, 1])).toBe(0.5);
    expect(coverage([0, 0, 0])).toBe(0);
  });

  it("top 1% share: the largest ceil(1%) counts over the total", () => {
    const hundred = [50, ...Array(99).fill(0)];
    hundred[40] = 25; hundred[70] = 25;
    expect(topShare(hundred)).toBe(0.5); // 1 movie of 100
    const many = Array(150).fill(1);
    many[3] = 11; many[99] = 21;
    expect(topShare(many)).toBeCloseTo(32 / (148 + 32), 12); // ceil(1.5) = 2 movies of 150
    expect(topShare([0, 0, 0])).toBe(0);
  });

  it("homogenisation: mean Jaccard over pairs of users who watched something", () => {
    const sets = [new Set([1, 2]), new Set([2, 3]), new Set<number>(), new Set([1, 2])];
    // pairs (0,1) 1/3, (0,3) 1, (1,3) 1/3; user 2 watched nothing and is left out.
    expect(homogenisation(sets)).toBeCloseTo((1 / 3 + 1 + 1 / 3) / 3, 12);
    expect(homogenisation([new Set([1]), new Set([2])])).toBe(0);
    expect(homogenisation([new Set([1])])).toBe(0);
  });

  it("rmse per group: each group over its own users' ratings", () => {
    const r = rmseByGroup([
      { groups: ["gender:F", "age:18-24"], predicted: 3, actual: 4 },
      { groups: ["gender:M", "age:18-24"], predicted: 3, actual: 1 },
      { groups: ["gender:F"], predicted: 5, actual: 5 },
    ]);
    expect(r.overall).toBeCloseTo(Math.sqrt(5 / 3), 12);
    expect(r.ratings).toBe(3);
    expect(r.byGroup["gender:F"]).toEqual({ rmse: Math.sqrt(1 / 2), ratings: 2 });
    expect(r.byGroup["gender:M"]).toEqual({ rmse: 2, ratings: 1 });
    expect(r.byGroup["age:18-24"]!.rmse).toBeCloseTo(Math.sqrt(5 / 2), 12);
    expect(Number.isNaN(rmseByGroup([]).overall)).toBe(true);
  });

  it("utility per visit: true ratings of picks over all visits, an ignored list counting 0", () => {
    expect(utilityPerVisit([4, 5], 4)).toBe(2.25);
    expect(utilityPerVisit([], 0)).toBe(0);
  });
});

describe("the group push", () => {
  it("puts the movie first and drops the last, moves it up when listed, leaves a seen movie alone", () => {
    expect(withPush(["a", "b", "c"], "x", false)).toEqual(["x", "a", "b"]);
    expect(withPush(["a", "b", "x"], "x", false)).toEqual(["x", "a", "b"]);
    expect(withPush(["a", "b", "c"], "x", true)).toEqual(["a", "b", "c"]);
  });
});

describe("epsilon list", () => {
  it("parses shares on the API's 0.05 grid", () => {
    expect(parseEpsilonList("0,0.05,0.1")).toEqual([0, 0.05, 0.1]);
    expect(parseEpsilonList(" 0.5 , 0 ")).toEqual([0.5, 0]);
  });
  it.each(["", "0,,0.1", "abc", "0.7", "-0.05", "0.02", "0,0", "0,0.05,0.1,0.15,0.2,0.25,0.3"])("refuses %j with exit 2 and the fix", (text) => {
    expect(() => parseEpsilonList(text)).toThrow(expect.objectContaining({ code: "RECSYS_FEEDBACK_BAD_EPSILON", exitCode: 2 }));
  });
});

describe("aggregate over seeds", () => {
  const round = (coverage: number, inGroup: number): RoundMetrics => ({
    round: 1, exposureGini: 0.5, coverage, homogenisation: 0, top1Share: 0, utility: 1, watchRate: 1,
    rmse: { overall: 1, ratings: 1, byGroup: {} }, pushed: { pushing: true, watchers: 0, watchersInGroup: 0, inGroupShare: inGroup },
  });
  it("gives the mean and the lowest-highest band, and leaves out seeds without data", () => {
    const runs: RunResult[] = [{ epsilon: 0, seed: 1, rounds: [round(0.2, NaN)] }, { epsilon: 0, seed: 2, rounds: [round(0.4, 0.5)] }];
    const s = aggregate(runs);
    expect(s.find((p) => p.metric === "coverage")).toMatchObject({ low: 0.2, high: 0.4, seeds: 2 });
    expect(s.find((p) => p.metric === "coverage")!.mean).toBeCloseTo(0.3, 12);
    expect(s.find((p) => p.metric === "pushedInGroupShare")).toMatchObject({ mean: 0.5, low: 0.5, high: 0.5, seeds: 1 });
  });
});

describe("experiment options", () => {
  it("refuses shares off the slot grid or repeated from a library caller too (exit 2)", async () => {
    const { runExperiment } = await import("./experiment.ts");
    for (const epsilons of [[0.02], [0.1, 0.1]]) {
      await expect(runExperiment({ epsilons }, "/nonexistent")).rejects.toMatchObject({ code: "RECSYS_FEEDBACK_BAD_OPTIONS", exitCode: 2 });
    }
  });
});
