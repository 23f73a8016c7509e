import { z } from "zod";
import { CALIBRATION_CANDIDATES, recommend, type CalibrationOptions } from "@recsys/api";
import type { RecModel } from "@recsys/artifact";
import { UNKNOWN, type EvaluationOptions, type RatingSet } from "@recsys/train";
import { listExposure, type ExposureColumns } from "./exposure.ts";
import { mergeColumns, type UserColumns } from "./analysis.ts";
import { groupValues } from "./stats.ts";

/** `--mitigation calibration:LAMBDA`: the API's calibrated re-ranking with weight LAMBDA (0..1]. */
export const MitigationSchema = z.string().transform((text, ctx) => {
  const m = /^calibration:(\d+(?:\.\d+)?)$/.exec(text);
  const lambda = m ? Number(m[1]) : NaN;
  if (!(lambda > 0 && lambda <= 1)) {
    ctx.addIssue({ code: "custom", message: `--mitigation ${text}: expected calibration:LAMBDA with 0 < LAMBDA <= 1 (e.g. calibration:0.5)` });
    return z.NEVER;
  }
  return { kind: "calibration" as const, lambda, candidates: CALIBRATION_CANDIDATES };
});
export type Mitigation = z.output<typeof MitigationSchema>;

/** What the served lists give, for all users or one group. */
export interface ServedMeasures {
  users: number;
  calibration: number;
  tailExposure: number;
  ndcg: number;
  recall: number;
  coverage: number;
  gini: number;
}

export interface ServedSide {
  overall: ServedMeasures;
  groups: Record<string, (ServedMeasures & { group: string })[]>;
}

export interface MitigationReport extends Mitigation {
  before: ServedSide;
  after: ServedSide;
  /** after - before, overall: what the mitigation costs (negative) in ranking quality. */
  cost: { ndcg: number; recall: number; rmse: number };
  note: string;
}

/**
 * nDCG and recall at topN of the very lists `recommend` serves (optionally re-ranked), against
 * held-out ratings >= relevantAt of movies not seen in training, per known user. Without
 * re-ranking these are train's ranking metrics; with it, what the re-ranked list is worth.
 */
export function servedRanking(model: RecModel, heldOut: RatingSet, { topN, relevantAt }: EvaluationOptions, calibration?: CalibrationOptions): UserColumns {
  const relevantOf = new Map<number, Set<number>>();
  for (let r = 0; r < heldOut.length; r++) {
    const u = heldOut.users[r]!, i = heldOut.items[r]!;
    if (u === UNKNOWN) continue;
    const set = relevantOf.get(u) ?? new Set<number>();
    relevantOf.set(u, set);
    if (i !== UNKNOWN && heldOut.values[r]! >= relevantAt) set.add(i);
  }
  const users = [...relevantOf.keys()].sort((a, b) => a - b);
  const col = () => ({ num: new Float64Array(users.length), den: new Float64Array(users.length), finish: (x: number) => x });
  const columns = { ndcg: col(), recall: col() };
  const rowOf = new Map(model.meta.movieIds.map((id, i) => [id, i]));
  users.forEach((u, row) => {
    const relevant = relevantOf.get(u)!;
    for (let j = model.seenOffsets[u]!; j < model.seenOffsets[u + 1]!; j++) relevant.delete(model.seenItems[j]!);
    if (relevant.size === 0) return;
    const list = recommend(model, model.meta.userIds[u]!, { calibration }).ids.slice(0, topN);
    let hits = 0, dcg = 0, idcg = 0;
    list.forEach((id, j) => { if (relevant.has(rowOf.get(id)!)) { hits++; dcg += 1 / Math.log2(j + 2); } });
    for (let j = 0; j < Math.min(relevant.size, topN); j++) idcg += 1 / Math.log2(j + 2);
    columns.ndcg.num[row] = dcg / idcg; columns.ndcg.den[row] = 1;
    columns.recall.num[row] = hits / relevant.size; columns.recall.den[row] = 1;
  });
  return { userIds: users.map((u) => model.meta.userIds[u]!), columns };
}

/**
 * The served-list measures of one side (before or after) overall and per group: calibration,
 * tail exposure, nDCG and recall as user means, coverage and Gini of the group's lists.
 */
export function servedSide(e: ExposureColumns, ranking: UserColumns, groups: Map<string, { labels: Map<number, string>; order: string[] }>, movies: number): ServedSide {
  const merged = mergeColumns(ranking, { userIds: e.userIds, columns: e.columns });
  const measure = (inGroup: (id: number) => boolean): ServedMeasures => {
    const rows = merged.userIds.flatMap((id, r) => (inGroup(id) ? [r] : []));
    const listRows = e.userIds.flatMap((id, r) => (inGroup(id) ? [r] : []));
    const value = (m: "calibration" | "tailExposure" | "ndcg" | "recall") => groupValues(merged.columns[m]!, [rows])[0]!;
    return { users: listRows.length, calibration: value("calibration"), tailExposure: value("tailExposure"), ndcg: value("ndcg"), recall: value("recall"), ...listExposure(e.lists, listRows, movies) };
  };
  return {
    overall: measure(() => true),
    groups: Object.fromEntries([...groups].map(([attr, { labels, order }]) => [attr, order.map((group) => ({ group, ...measure((id) => labels.get(id) === group) }))])),
  };
}

/** Both sides with the cost; RMSE is unchanged because re-ranking changes no predicted rating. */
export function mitigationReport(m: Mitigation, before: ServedSide, after: ServedSide): MitigationReport {
  return {
    ...m, before, after,
    cost: { ndcg: after.overall.ndcg - before.overall.ndcg, recall: after.overall.recall - before.overall.recall, rmse: 0 },
    note: `calibrated re-ranking (lambda ${m.lambda}, from the best ${m.candidates} by score) reorders the served list only: predicted ratings, hence RMSE and MAE, are unchanged`,
  };
}
