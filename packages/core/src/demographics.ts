/**
 * Demographic groups shared by serving (cold-start popularity per group) and fairness analysis.
 * Age bands follow MovieLens-1M's; a user without age or gender falls in no group.
 */
export const AGE_BANDS = [
  { label: "<18", max: 17 },
  { label: "18-24", max: 24 },
  { label: "25-34", max: 34 },
  { label: "35-44", max: 44 },
  { label: "45-55", max: 55 },
  { label: "56+", max: Infinity },
] as const;

export function ageBand(age: number): string {
  return AGE_BANDS.find((b) => age <= b.max)!.label;
}

/** Normalises the many spellings of gender in side files to "M", "F" or "other". */
export function normalizeGender(gender: string): "M" | "F" | "other" {
  const g = gender.trim().toUpperCase();
  if (g === "M" || g === "MALE") return "M";
  if (g === "F" || g === "FEMALE") return "F";
  return "other";
}

/** The age x gender group label, e.g. "F:25-34", or null without both fields. */
export function demographicGroup(user: { age?: number; gender?: string }): string | null {
  if (user.age === undefined || user.gender === undefined) return null;
  return `${normalizeGender(user.gender)}:${ageBand(user.age)}`;
}
