import { describe, expect, it } from "vitest";
import { gini, listExposure } from "./exposure.ts";

describe("exposure metrics", () => {
  it("computes the Gini of exposure by hand", () => {
    expect(gini([1, 1, 1, 1])).toBe(0);
    expect(gini([4, 0, 0, 0])).toBe(0.75); // (2*4 - 4 - 1) * 4 / (4 * 4)
    expect(gini([0, 0])).toBe(0);
  });

  it("measures coverage and Gini of the chosen users' lists only", () => {
    const lists = [[0, 1], [0], [3]];
    expect(listExposure(lists, [0, 1], 4)).toEqual({ coverage: 0.5, gini: gini([2, 1, 0, 0]) });
  });
});
