import { ageBand, demographicGroup, normalizeGender, readJsonLines, UserSchema, type User } from "@recsys/core";
import type { CanaryConfig } from "./config.ts";
import type { CheckStatus } from "./checks.ts";
import { isFollowed } from "./follow.ts";
import type { RequestRecord } from "./records.ts";
import { isScored, type FollowOptions } from "./release-stats.ts";
import { twoProportionTest, wilsonInterval, type TwoProportionTest } from "./stats.ts";
import { MIN_EXPECTED_FOLLOWS } from "./checks.ts";

/** Each attribute's group label per user id: `gender` -> 17 -> "F". */
export type UserGroups = ReadonlyMap<string, ReadonlyMap<number, string>>;

/**
 * The brief's social groups of each user of a users file: gender (M / F / other), age band
 * (core's bands) and age x gender; a user without a field is in no group of it.
 */
export function userGroups(users: readonly User[]): UserGroups {
  const out = new Map<string, Map<number, string>>([["gender", new Map()], ["age", new Map()], ["age_gender", new Map()]]);
  for (const u of users) {
    if (u.gender !== undefined && u.gender.trim() !== "") out.get("gender")!.set(u.user_id, normalizeGender(u.gender));
    if (u.age !== undefined) out.get("age")!.set(u.user_id, ageBand(u.age));
    const both = demographicGroup(u);
    if (both !== null) out.get("age_gender")!.set(u.user_id, both);
  }
  for (const [attr, labels] of out) if (labels.size === 0) out.delete(attr);
  return out;
}

/** Reads a users file (users.jsonl: the simulator's, or a dataset's) into its groups; a bad line is exit 2 naming it. */
export async function loadUserGroups(path: string): Promise<UserGroups> {
  return userGroups(await readJsonLines(UserSchema, path));
}

export interface GroupArm {
  eligible: number;
  follows: number;
  rate: number | null;
  ci: [number, number] | null;
}

/** One group's follow rates, canary against stable, and the one-sided test "canary worse". */
export interface GroupFollow {
  attribute: string;
  group: string;
  canary: GroupArm;
  stable: GroupArm;
  test: TwoProportionTest | null;
  /** Holm-adjusted p over every group tested in this analysis; null when the group is not tested. */
  pAdjusted: number | null;
  status: CheckStatus;
}

/**
 * Follow rate per group for canary and stable: a canary better overall can still serve one group
 * worse. Each group with enough samples gets the one-sided two-proportion test; the p-values are
 * Holm-corrected over every tested group of every attribute (one family), so twenty groups do not
 * give twenty chances of a false rollback. `fail` names each significantly worse group.
 */
export interface GroupCheck {
  status: CheckStatus;
  groups: GroupFollow[];
  /** `attribute=group` of each group significantly worse on the canary. */
  worse: string[];
  tested: number;
  alpha: number;
  minSamples: number;
}

export function arm(follows: number, eligible: number): GroupArm {
  return { eligible, follows, rate: eligible ? follows / eligible : null, ci: wilsonInterval(follows, eligible) };
}

/**
 * Holm's step-down adjustment: sorted ascending, p(i) * (m - i), made monotone, capped at 1.
 *
 *     holm([0.01, 0.04, 0.03]) // [0.03, 0.06, 0.06]
 */
export function holm(pValues: readonly number[]): number[] {
  const order = pValues.map((p, i) => [p, i] as const).sort((a, b) => a[0] - b[0]);
  const out = new Array<number>(pValues.length);
  let running = 0;
  order.forEach(([p, i], rank) => {
    running = Math.max(running, Math.min(1, p * (pValues.length - rank)));
    out[i] = running;
  });
  return out;
}

/** Follows and scored recommendations per `attribute=group` key (same scoring as the overall follow rate). */
export function tallyByGroup(requests: readonly RequestRecord[], groups: UserGroups, follow: FollowOptions): Map<string, { attribute: string; group: string; follows: number; eligible: number }> {
  const counts = new Map<string, { attribute: string; group: string; follows: number; eligible: number }>();
  for (const r of requests) {
    if (!isScored(r, follow)) continue;
    const followed = isFollowed(follow.index, r, follow.followWindowMs) ? 1 : 0;
    for (const [attribute, labels] of groups) {
      const group = labels.get(r.userId);
      if (group === undefined) continue;
      const key = `${attribute}=${group}`;
      let entry = counts.get(key);
      if (!entry) counts.set(key, (entry = { attribute, group, follows: 0, eligible: 0 }));
      entry.follows += followed;
      entry.eligible++;
    }
  }
  return counts;
}

/** Attribute, then group, in name order. */
export const byGroupName = (a: { attribute: string; group: string }, b: { attribute: string; group: string }) => a.attribute.localeCompare(b.attribute) || a.group.localeCompare(b.group);

/** Per-group follow counts of the two arms and the corrected tests (null without any group). */
export function groupCheck(canary: readonly RequestRecord[], stable: readonly RequestRecord[], groups: UserGroups, follow: FollowOptions, config: CanaryConfig): GroupCheck | null {
  if (groups.size === 0) return null;
  const c = tallyByGroup(canary, groups, follow), s = tallyByGroup(stable, groups, follow);
  const counts = [...new Set([...c.keys(), ...s.keys()])].map((key) => {
    const { attribute, group } = (c.get(key) ?? s.get(key))!;
    const pair = (t: { follows: number; eligible: number } | undefined): [number, number] => [t?.follows ?? 0, t?.eligible ?? 0];
    return { attribute, group, c: pair(c.get(key)), s: pair(s.get(key)) };
  });
  const rows = counts.sort(byGroupName).map((e) => {
    const pooled = (e.c[0] + e.s[0]) / Math.max(1, e.c[1] + e.s[1]);
    // The same sample rules as the overall quality test, with the per-group minimum.
    const enough = Math.min(e.c[1], e.s[1]) >= config.minSamplesPerGroup && Math.min(e.c[1], e.s[1]) * pooled >= MIN_EXPECTED_FOLLOWS;
    return { attribute: e.attribute, group: e.group, canary: arm(...e.c), stable: arm(...e.s), test: enough ? twoProportionTest(e.c[0], e.c[1], e.s[0], e.s[1]) : null };
  });
  const tested = rows.filter((r) => r.test !== null);
  const adjusted = holm(tested.map((r) => r.test!.pValue));
  const out: GroupFollow[] = rows.map((r) => {
    const k = tested.indexOf(r);
    const pAdjusted = k >= 0 ? adjusted[k]! : null;
    return { ...r, pAdjusted, status: pAdjusted === null ? "insufficient" : pAdjusted < config.alpha ? "fail" : "pass" };
  });
  const worse = out.filter((g) => g.status === "fail").map((g) => `${g.attribute}=${g.group}`);
  return {
    status: worse.length ? "fail" : tested.length ? "pass" : "insufficient",
    groups: out, worse, tested: tested.length, alpha: config.alpha, minSamples: config.minSamplesPerGroup,
  };
}
