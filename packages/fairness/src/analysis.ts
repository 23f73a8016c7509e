import { createRng } from "@recsys/core";
import { METRICS, type FairnessConfig, type MetricName } from "./config.ts";
import { groupLabels } from "./groups.ts";
import type { UserQuality } from "./quality.ts";
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
  metrics: Record<MetricName, (ReturnType<typeof disparity> & { pValue: number; judged: string[] }) | null>;
}

export interface AttributeQuality {
  attribute: string;
  groups: { group: string; metrics: Record<MetricName, GroupMetric> }[];
  /** Per metric: the disparity between judged groups, or null when fewer than two are judged. */
  disparities: Record<MetricName, MetricDisparity | null>;
  /** Per metric: groups below minGroupSize, named and not judged. */
  notJudged: Record<MetricName, string[]>;
  strata: StratumDisparity[];
}

type Opts = Pick<FairnessConfig, "minGroupSize" | "bootstrap" | "permutations" | "activityStrata" | "ageBands">;

const carriers = (m: MetricColumns, rows: number[]) => rows.filter((r) => m.den[r]! > 0);

/**
 * Quality per group of one attribute, the disparity between judged groups with bootstrap CIs and
 * a permutation p-value, and the same disparity within profile-size strata (Ekstrand et al. 2018:
 * groups that rate less also get worse lists, so activity must not be mistaken for group bias).
 * Each test draws from its own stream forked by attribute and metric: same seed, same bytes.
 */
export function attributeQuality(attribute: string, labels: Map<number, string>, q: UserQuality, profile: Map<number, number>, o: Opts, seed: number): AttributeQuality {
  const groupNames = groupLabels(labels, o);
  const rowsOf = new Map(groupNames.map((g) => [g, [] as number[]]));
  q.userIds.forEach((id, row) => { const g = labels.get(id); if (g !== undefined) rowsOf.get(g)!.push(row); });
  const groups = groupNames.map((group) => ({ group, metrics: {} as Record<MetricName, GroupMetric> }));
  const disparities = {} as AttributeQuality["disparities"];
  const notJudged = {} as AttributeQuality["notJudged"];
  for (const metric of METRICS) {
    const m = q.columns[metric];
    const members = groupNames.map((g) => carriers(m, rowsOf.get(g)!));
    const judgedIdx = groupNames.map((_, i) => i).filter((i) => members[i]!.length >= o.minGroupSize);
    notJudged[metric] = groupNames.filter((_, i) => !judgedIdx.includes(i) && rowsOf.get(groupNames[i]!)!.length > 0);
    const values = groupValues(m, members);
    groups.forEach((g, i) => { g.metrics[metric] = { users: members[i]!.length, value: values[i]!, ci: null }; });
    if (judgedIdx.length < 2) { disparities[metric] = null; continue; }
    const t = testDisparity(m, judgedIdx.map((i) => members[i]!), o, createRng(seed).fork(`${attribute}/${metric}`));
    judgedIdx.forEach((i, j) => { groups[i]!.metrics[metric].ci = t.groups[j]!.ci; });
    const judged = judgedIdx.map((i) => groupNames[i]!);
    const { groups: _perGroup, hi, lo, ...rest } = t;
    disparities[metric] = { ...rest, highest: judged[hi]!, lowest: judged[lo]!, judged };
  }
  return { attribute, groups, disparities, notJudged, strata: strata(attribute, groupNames, rowsOf, q, profile, o, seed) };
}

function strata(attribute: string, groupNames: string[], rowsOf: Map<string, number[]>, q: UserQuality, profile: Map<number, number>, o: Opts, seed: number): StratumDisparity[] {
  const size = q.userIds.map((id) => profile.get(id) ?? 0);
  const cuts = Array.from({ length: o.activityStrata - 1 }, (_, k) => quantile(size, (k + 1) / o.activityStrata));
  const stratumOf = (row: number) => cuts.filter((c) => size[row]! > c).length;
  return Array.from({ length: o.activityStrata }, (_, s) => {
    const inStratum = (row: number) => stratumOf(row) === s;
    const rows = size.map((_, r) => r).filter(inStratum);
    const sizes = rows.map((r) => size[r]!);
    const metrics = {} as StratumDisparity["metrics"];
    for (const metric of METRICS) {
      const m = q.columns[metric];
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
