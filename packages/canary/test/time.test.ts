import { describe, expect, it } from "vitest";
import { CANARY_ERROR, parseDurationMs, parseTimeMs, resolveWindow } from "../src/index.ts";

describe("parseTimeMs", () => {
  it("reads the stream's times as UTC, with or without fraction or zone", () => {
    expect(parseTimeMs("2022-02-08T18:06:56.145104")).toBe(Date.UTC(2022, 1, 8, 18, 6, 56, 145));
    expect(parseTimeMs("2022-02-08T18:06:56")).toBe(Date.UTC(2022, 1, 8, 18, 6, 56));
    expect(parseTimeMs("2022-02-08T18:06:56+01:00")).toBe(Date.UTC(2022, 1, 8, 17, 6, 56));
  });
  it("is NaN for non-times and impossible dates", () => {
    for (const s of ["", "2022-02-08", "2022-02-30T00:00:00", "2022-02-08T24:00:00", "yesterday"]) expect(parseTimeMs(s)).toBeNaN();
  });
});

describe("windows", () => {
  const last = Date.UTC(2022, 1, 8, 12);
  it("parses durations with units or bare seconds", () => {
    expect(parseDurationMs("15m")).toBe(900_000);
    expect(parseDurationMs("12h")).toBe(43_200_000);
    expect(parseDurationMs("600")).toBe(600_000);
    expect(parseDurationMs("1.5s")).toBe(1500);
    expect(parseDurationMs("15 minutes")).toBeNaN();
  });
  it("counts a duration back from the last record, including it", () => {
    expect(resolveWindow("30m", 0, last)).toEqual({ startMs: last + 1 - 1_800_000, endMs: last + 1 });
    expect(resolveWindow(undefined, 5, last)).toEqual({ startMs: 5, endMs: last + 1 });
  });
  it("takes an ISO range", () => {
    expect(resolveWindow("2022-02-08T10:00:00..2022-02-08T11:00:00Z", 0, last)).toEqual({ startMs: Date.UTC(2022, 1, 8, 10), endMs: Date.UTC(2022, 1, 8, 11) });
  });
  it.each(["0", "-5m", "soon", "2022-02-08T11:00:00..2022-02-08T10:00:00", "a..b"])("refuses %s", (spec) => {
    expect(() => resolveWindow(spec, 0, last)).toThrow(expect.objectContaining({ code: CANARY_ERROR.badWindow }));
  });
});
