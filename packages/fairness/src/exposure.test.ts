import { describe, expect, it } from "vitest";
import { calibrationKl, gini } from "./exposure.ts";

describe("exposure metrics", () => {
  it("computes Steck's calibration KL by hand", () => {
    const history = new Map([["Drama", 0.5], ["Comedy", 0.5]]);
    // q~(Drama) = 0.99 * 1 + 0.01 * 0.5 = 0.995, q~(Comedy) = 0.01 * 0.5 = 0.005
    expect(calibrationKl(history, new Map([["Drama", 1]]))).toBeCloseTo(0.5 * Math.log(0.5 / 0.995) + 0.5 * Math.log(0.5 / 0.005), 12);
    expect(calibrationKl(history, new Map(history))).toBeCloseTo(0, 12);
  });

  it("computes the Gini of exposure by hand", () => {
    expect(gini([1, 1, 1, 1])).toBe(0);
    expect(gini([4, 0, 0, 0])).toBe(0.75); // (2*4 - 4 - 1) * 4 / (4 * 4)
    expect(gini([0, 0])).toBe(0);
  });
});
