import { describe, expect, it } from "vitest";
import { describeGate, gateVerdict } from "./gate.ts";

describe("gateVerdict", () => {
  it("passes a model below the threshold and no worse than its baseline", () => {
    expect(gateVerdict(0.85, 0.86, 1)).toEqual({
      metric: "rmse", threshold: 1, value: 0.85, baseline: 0.86, belowThreshold: true, noWorseThanBaseline: true, passed: true,
    });
    expect(gateVerdict(0.86, 0.86, 1).passed).toBe(true);
  });

  it("fails a model worse than its biases-only baseline even below the threshold", () => {
    const g = gateVerdict(0.8765, 0.8594, 1);
    expect(g).toMatchObject({ belowThreshold: true, noWorseThanBaseline: false, passed: false });
    expect(describeGate(g)).toBe("held-out RMSE 0.8765 is below 1 (ok), worse than the biases-only baseline 0.8594 on the same split (FAILED)");
  });

  it("fails a model at or above the threshold even when it beats its baseline", () => {
    expect(gateVerdict(1, 1.2, 1)).toMatchObject({ belowThreshold: false, noWorseThanBaseline: true, passed: false });
  });

  it("fails a NaN RMSE (a diverged model) on both conditions", () => {
    expect(gateVerdict(NaN, 0.9, 1)).toMatchObject({ belowThreshold: false, noWorseThanBaseline: false, passed: false });
    expect(gateVerdict(0.8, NaN, 1).passed).toBe(false);
  });
});
