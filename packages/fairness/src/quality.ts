import type { RecModel } from "@recsys/artifact";
import { evaluateRatings, UNKNOWN, type EvaluationOptions, type RatingSet } from "@recsys/train";
import type { QUALITY_METRICS } from "./config.ts";
import type { MetricColumns } from "./stats.ts";

/** Per-user quality on held-out ratings, one row per known user with held-out ratings. */
export interface UserQuality {
  /** External user id of each row. */
  userIds: number[];
  columns: Record<(typeof QUALITY_METRICS)[number], MetricColumns>;
  /** Held-out ratings whose user the model does not know (cold start, not judged here). */
  unknownUserRatings: number;
}

const identity = (x: number) => x;

/**
 * Scores every known user of `heldOut` on their own ratings with train's `evaluateRatings`
 * (the same RMSE, MAE and top-N metrics as `recsys evaluate`, one user at a time), so group
 * values and resamples are sums over users.
 *
 *     const q = perUserQuality(model, heldOut, { topN: 20, relevantAt: 4 });
 */
export function perUserQuality(model: RecModel, heldOut: RatingSet, options: EvaluationOptions): UserQuality {
  const rowsOf = new Map<number, number[]>();
  let unknownUserRatings = 0;
  for (let r = 0; r < heldOut.length; r++) {
    const u = heldOut.users[r]!;
    if (u === UNKNOWN) { unknownUserRatings++; continue; }
    let rows = rowsOf.get(u);
    if (!rows) rowsOf.set(u, (rows = []));
    rows.push(r);
  }
  const users = [...rowsOf.keys()].sort((a, b) => a - b);
  const n = users.length;
  const col = (finish: (x: number) => number): MetricColumns => ({ num: new Float64Array(n), den: new Float64Array(n), finish });
  const columns: UserQuality["columns"] = { rmse: col(Math.sqrt), mae: col(identity), ndcg: col(identity), precision: col(identity), recall: col(identity) };
  users.forEach((u, row) => {
    const e = evaluateRatings(model, pick(heldOut, rowsOf.get(u)!), options);
    columns.rmse.num[row] = e.rmse * e.rmse * e.ratings; columns.rmse.den[row] = e.ratings;
    columns.mae.num[row] = e.mae * e.ratings; columns.mae.den[row] = e.ratings;
    if (e.relevantUsers === 1) {
      for (const m of ["ndcg", "precision", "recall"] as const) { columns[m].num[row] = e[m]; columns[m].den[row] = 1; }
    }
  });
  return { userIds: users.map((u) => model.meta.userIds[u]!), columns, unknownUserRatings };
}

function pick(s: RatingSet, rows: number[]): RatingSet {
  const out: RatingSet = {
    length: rows.length, users: new Uint32Array(rows.length), items: new Uint32Array(rows.length),
    values: new Float32Array(rows.length), times: new Float64Array(rows.length),
  };
  rows.forEach((r, j) => { out.users[j] = s.users[r]!; out.items[j] = s.items[r]!; out.values[j] = s.values[r]!; out.times[j] = s.times[r]!; });
  return out;
}

/**
 * The model with the held-out (user, movie) pairs removed from its seen lists. A model trained on
 * a split of --data lists every movie of --data as seen (the API must not recommend them), which
 * would hide every held-out movie from the top-N; the ranking metrics need them back.
 */
export function unmaskHeldOut(model: RecModel, heldOut: RatingSet): RecModel {
  const held = new Set<number>();
  for (let r = 0; r < heldOut.length; r++) if (heldOut.users[r] !== UNKNOWN && heldOut.items[r] !== UNKNOWN) held.add(heldOut.users[r]! * model.nItems + heldOut.items[r]!);
  const offsets = new Uint32Array(model.nUsers + 1), items: number[] = [];
  for (let u = 0; u < model.nUsers; u++) {
    for (let j = model.seenOffsets[u]!; j < model.seenOffsets[u + 1]!; j++) {
      const i = model.seenItems[j]!;
      if (!held.has(u * model.nItems + i)) items.push(i);
    }
    offsets[u + 1] = items.length;
  }
  return { ...model, seenOffsets: offsets, seenItems: Uint32Array.from(items) };
}
