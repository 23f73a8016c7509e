import { createRng } from "@recsys/core";
import type { FairnessConfig, MetricName } from "./config.ts";
import { groupLabels } from "./groups.ts";
import { disparity, groupValues, permutationPValue, quantile, testDisparity, type DisparityTest, type MetricColumns } from "./stats.ts";

export interface GroupMetric {
  /** Users that carry the metric (held-out ratings; for ranking metrics, a relevant movie). */
  users: number;
  value: number;
  /** Bootstrap 95% CI; null for groups not judged. */
  ci: [number, number] | null;
}

export interface MetricDisparity extends Omit<DisparityTest, "groups" | "hi" | "lo"> {
  /** The groups with the highest and lowest value (the contrast the CI is about). */
  highest: string;
  lowest: string;
  judged: string[];
}

export interface StratumDisparity {
  label: string;
  minProfile: number;
  maxProfile: number;
  users: number;
  /** Per metric: difference, ratio and permutation p-value within the stratum, null under two judged groups. */
  metrics: Partial<Record<MetricName, (ReturnType<typeof disparity> & { pValue: number; judged: string[] }) | null>>;
}

export interface AttributeQuality {
  attribute: string;
  groups: { group: string; metrics: Partial<Record<MetricName, GroupMetric>> }[];
  /** Per metric: the disparity between judged groups, or null when fewer than two are judged. */
  disparities: Partial<Record<MetricName, MetricDisparity | null>>;
  /** Per metric: groups below minGroupSize, named and not judged. */
  notJudged: Partial<Record<MetricName, string[]>>;
  strata: StratumDisparity[];
}

type Opts = Pick<FairnessConfig, "minGroupSize" | "bootstrap" | "permutations" | "activityStrata" | "ageBands">;

/** Per-user metric columns, one row per user id. */
export interface UserColumns {
  userIds: number[];
  columns: Partial<Record<MetricName, MetricColumns>>;
}

const metricsOf = (q: UserColumns) => Object.keys(q.columns) as MetricName[];

const carriers = (m: MetricColumns, rows: number[]) => rows.filter((r) => m.den[r]! > 0);

/**
 * Quality per group of one attribute, the disparity between judged groups with bootstrap CIs and
 * a permutation p-value, and the same disparity within profile-size strata (Ekstrand et al. 2018:
 * groups that rate less also get worse lists, so activity must not be mistaken for group bias).
 * Each test draws from its own stream forked by attribute and metric: same seed, same bytes.
 */
export function attributeQuality(attribute: string, labels: Map<number, string>, q: UserColumns, profile: Map<number, number>, o: Opts, seed: number): AttributeQuality {
  const groupNames = groupLabels(labels, o);
  const rowsOf = new Map(groupNames.map((g) => [g, [] as number[]]));
  q.userIds.forEach((id, row) => { const g = labels.get(id); if (g !== undefined) rowsOf.get(g)!.push(row); });
  const groups = groupNames.map((group) => ({ group, metrics: {} as AttributeQuality["groups"][number]["metrics"] }));
  const disparities = {} as AttributeQuality["disparities"];
  const notJudged = {} as AttributeQuality["notJudged"];
  for (const metric of metricsOf(q)) {
    const m = q.columns[metric]!;
    const members = groupNames.map((g) => carriers(m, rowsOf.get(g)!));
    const judgedIdx = groupNames.map((_, i) => i).filter((i) => members[i]!.length >= o.minGroupSize);
    notJudged[metric] = groupNames.filter((_, i) => !judgedIdx.includes(i) && rowsOf.get(groupNames[i]!)!.length > 0);
    const values = groupValues(m, members);
    groups.forEach((g, i) => { g.metrics[metric] = { users: members[i]!.length, value: values[i]!, ci: null }; });
    if (judgedIdx.length < 2) { disparities[metric] = null; continue; }
    const t = testDisparity(m, judgedIdx.map((i) => members[i]!), o, createRng(seed).fork(`${attribute}/${metric}`));
    judgedIdx.forEach((i, j) => { groups[i]!.metrics[metric]!.ci = t.groups[j]!.ci; });
    const judged = judgedIdx.map((i) => groupNames[i]!);
    const { groups: _perGroup, hi, lo, ...rest } = t;
    disparities[metric] = { ...rest, highest: judged[hi]!, lowest: judged[lo]!, judged };
  }
  return { attribute, groups, disparities, notJudged, strata: strata(attribute, groupNames, rowsOf, q, profile, o, seed) };
}

function strata(attribute: string, groupNames: string[], rowsOf: Map<string, number[]>, q: UserColumns, profile: Map<number, number>, o: Opts, seed: number): StratumDisparity[] {
  const size = q.userIds.map((id) => profile.get(id) ?? 0);
  // Cut at the quantiles of the users with held-out ratings (the rmse carriers): users with too few
  // ratings to hold any out would otherwise fill the lowest stratum with nobody to judge quality on.
  const ref = q.columns.rmse;
  const evaluated = ref ? size.filter((_, r) => ref.den[r]! > 0) : size;
  const cuts = Array.from({ length: o.activityStrata - 1 }, (_, k) => quantile(evaluated, (k + 1) / o.activityStrata));
  const stratumOf = (row: number) => cuts.filter((c) => size[row]! > c).length;
  return Array.from({ length: o.activityStrata }, (_, s) => {
    const inStratum = (row: number) => stratumOf(row) === s;
    const rows = size.map((_, r) => r).filter(inStratum);
    const sizes = rows.map((r) => size[r]!);
    const metrics = {} as StratumDisparity["metrics"];
    for (const metric of metricsOf(q)) {
      const m = q.columns[metric]!;
      const members = groupNames.map((g) => carriers(m, rowsOf.get(g)!.filter(inStratum)));
      const judgedIdx = members.map((_, i) => i).filter((i) => members[i]!.length >= o.minGroupSize);
      if (judgedIdx.length < 2) { metrics[metric] = null; continue; }
      const judgedMembers = judgedIdx.map((i) => members[i]!);
      const d = disparity(groupValues(m, judgedMembers));
      const pValue = permutationPValue(m, judgedMembers, d.difference, o.permutations, createRng(seed).fork(`${attribute}/${metric}/stratum${s}`));
      metrics[metric] = { ...d, pValue, judged: judgedIdx.map((i) => groupNames[i]!) };
    }
    const lo = sizes.length ? Math.min(...sizes) : 0, hi = sizes.length ? Math.max(...sizes) : 0;
    return { label: `${lo}-${hi} ratings`, minProfile: lo, maxProfile: hi, users: rows.length, metrics };
  });
}

/** Joins two per-user column sets on user id; a user missing from one carries none of its metrics (den 0). */
export function mergeColumns(a: UserColumns, b: UserColumns): UserColumns {
  const userIds = [...new Set([...a.userIds, ...b.userIds])].sort((x, y) => x - y);
  const rowOf = new Map(userIds.map((id, r) => [id, r]));
  const columns: UserColumns["columns"] = {};
  for (const part of [a, b]) {
    for (const [name, c] of Object.entries(part.columns) as [MetricName, MetricColumns][]) {
      const out: MetricColumns = { num: new Float64Array(userIds.length), den: new Float64Array(userIds.length), finish: c.finish };
      part.userIds.forEach((id, r) => { const to = rowOf.get(id)!; out.num[to] = c.num[r]!; out.den[to] = c.den[r]!; });
      columns[name] = out;
    }
  }
  return { userIds, columns };
}
