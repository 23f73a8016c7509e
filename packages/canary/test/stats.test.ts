import { describe, expect, it } from "vitest";
import { normalCdf, quantileSorted, twoProportionTest, wilsonInterval } from "../src/index.ts";

describe("quantileSorted (nearest rank)", () => {
  const oneTo100 = Float64Array.from({ length: 100 }, (_, i) => i + 1);
  it("gives observed values on 1..100", () => {
    expect(quantileSorted(oneTo100, 0.99)).toBe(99);
    expect(quantileSorted(oneTo100, 0.5)).toBe(50);
    expect(quantileSorted(oneTo100, 1)).toBe(100);
  });
  it("is the maximum below 100 samples and NaN for none", () => {
    expect(quantileSorted([10, 20, 30, 40, 1000], 0.99)).toBe(1000);
    expect(quantileSorted([7], 0.5)).toBe(7);
    expect(quantileSorted([], 0.99)).toBeNaN();
  });
  it("gives the 990th of 1000", () => {
    expect(quantileSorted(Float64Array.from({ length: 1000 }, (_, i) => i), 0.99)).toBe(989);
  });
});

describe("normalCdf", () => {
  it("matches tables", () => {
    expect(normalCdf(0)).toBeCloseTo(0.5, 7);
    expect(normalCdf(1.959963984540054)).toBeCloseTo(0.975, 6);
    expect(normalCdf(-1.6448536269514722)).toBeCloseTo(0.05, 6);
    expect(normalCdf(-3)).toBeCloseTo(0.0013498980316301, 7);
  });
});

describe("twoProportionTest", () => {
  it("matches a hand computation: 45/500 vs 60/500", () => {
    // pooled p = 105/1000, se = sqrt(.105 * .895 * (2/500)) = 0.0193881; z = -0.03 / se
    const t = twoProportionTest(45, 500, 60, 500)!;
    expect(t.diff).toBeCloseTo(-0.03, 12);
    expect(t.z).toBeCloseTo(-1.547337646, 6);
    expect(t.pValue).toBeCloseTo(0.060890924, 6);
    // unpooled se = sqrt(.09*.91/500 + .12*.88/500)
    expect(t.ci95[0]).toBeCloseTo(-0.06795453936, 8);
    expect(t.ci95[1]).toBeCloseTo(0.00795453936, 8);
  });
  it("is null for an empty arm and neutral without variance", () => {
    expect(twoProportionTest(0, 0, 5, 10)).toBeNull();
    expect(twoProportionTest(0, 10, 0, 10)).toMatchObject({ z: 0, pValue: 0.5, diff: 0 });
  });
});

describe("wilsonInterval", () => {
  it("matches a hand computation: 10 of 100", () => {
    const [lo, hi] = wilsonInterval(10, 100)!;
    expect(lo).toBeCloseTo(0.0552291371, 8);
    expect(hi).toBeCloseTo(0.1743656615, 8);
  });
  it("stays in [0, 1] at the edges", () => {
    expect(wilsonInterval(0, 20)![0]).toBe(0);
    expect(wilsonInterval(20, 20)![1]).toBe(1);
    expect(wilsonInterval(0, 0)).toBeNull();
  });
});
