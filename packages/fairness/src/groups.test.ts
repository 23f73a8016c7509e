import { describe, expect, it } from "vitest";
import { groupLabels, groupUsers } from "./groups.ts";
import { FAIRNESS_DEFAULTS } from "./config.ts";

describe("groupUsers", () => {
  it("finds gender, MovieLens age bands, age x gender and occupation; skips users without a field", () => {
    const g = groupUsers([
      { user_id: 1, age: 17, gender: "female", occupation: "K-12 student" },
      { user_id: 2, age: 49, gender: "M", occupation: "writer" },
      { user_id: 3, age: 50, occupation: "writer" },
      { user_id: 4 },
    ], FAIRNESS_DEFAULTS);
    expect([...g.keys()]).toEqual(["gender", "age", "age_gender", "occupation"]);
    expect(Object.fromEntries(g.get("age")!)).toEqual({ 1: "<18", 2: "45-49", 3: "50-55" });
    expect(Object.fromEntries(g.get("age_gender")!)).toEqual({ 1: "F:<18", 2: "M:45-49" });
    expect(g.get("gender")!.has(3)).toBe(false);
    expect(groupLabels(g.get("age")!, FAIRNESS_DEFAULTS)).toEqual(["<18", "45-49", "50-55"]);
  });

  it("yields no attribute for a users file without demographics", () => {
    expect(groupUsers([{ user_id: 1 }, { user_id: 2 }], FAIRNESS_DEFAULTS).size).toBe(0);
  });
});
