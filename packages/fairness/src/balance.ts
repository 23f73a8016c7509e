import type { TrainingData } from "@recsys/train";
import { quantile } from "./stats.ts";

export interface GroupBalance {
  group: string;
  users: number;
  ratings: number;
  watches: number;
  watchMinutes: number;
  /** Interactions (distinct movies rated or watched) per user. */
  activity: { mean: number; p25: number; median: number; p75: number; p90: number };
  /** Share of the group's interactions on long-tail movies. */
  longTailShare: number;
}

export interface ItemBalance {
  movies: number;
  interactions: number;
  /** Movies in the short head: the most popular `headShare` of the catalogue. */
  headMovies: number;
  headShare: number;
  /** Share of all interactions on the other movies. */
  longTailShare: number;
  /** Popularity curve: the top `itemShare` of movies hold `interactionShare` of interactions (101 points). */
  curve: { itemShare: number; interactionShare: number }[];
}

/** Interactions per (data user row, movie row): rated or watched, counted once. */
function interactionKeys(data: TrainingData): Set<number> {
  const n = data.movieIds.length, keys = new Set<number>();
  for (let r = 0; r < data.ratings.length; r++) keys.add(data.ratings.users[r]! * n + data.ratings.items[r]!);
  for (let r = 0; r < data.watches.length; r++) keys.add(data.watches.users[r]! * n + data.watches.items[r]!);
  return keys;
}

/**
 * Item-side balance (and `inTail`, the long-tail flag per movie row) and, per group of each attribute, users, ratings, watches, watch minutes,
 * the activity distribution and the long-tail share of what the group consumed.
 *
 *     const { items, groups } = datasetBalance(data, groupUsers(data.users, config), 0.2);
 */
export function datasetBalance(data: TrainingData, assignment: Map<string, Map<number, string>>, headShare: number) {
  const nMovies = data.movieIds.length, nUsers = data.userIds.length;
  const keys = interactionKeys(data);
  const popularity = new Float64Array(nMovies), activity = new Float64Array(nUsers);
  for (const k of keys) { popularity[k % nMovies]!++; activity[Math.floor(k / nMovies)]!++; }
  const order = Array.from(popularity.keys()).sort((a, b) => popularity[b]! - popularity[a]! || a - b);
  const headMovies = Math.ceil(headShare * nMovies);
  const inTail = new Uint8Array(nMovies);
  order.slice(headMovies).forEach((i) => { inTail[i] = 1; });
  const tailByUser = new Float64Array(nUsers);
  for (const k of keys) if (inTail[k % nMovies]) tailByUser[Math.floor(k / nMovies)]!++;
  const total = keys.size;
  let cum = 0;
  const cumulative = order.map((i) => (cum += popularity[i]!));
  const curve = Array.from({ length: 101 }, (_, p) => {
    const m = Math.round((p / 100) * nMovies);
    return { itemShare: p / 100, interactionShare: m === 0 || total === 0 ? 0 : cumulative[m - 1]! / total };
  });
  const tailTotal = tailByUser.reduce((a, b) => a + b, 0);
  const items: ItemBalance = { movies: nMovies, interactions: total, headMovies, headShare, longTailShare: total ? tailTotal / total : 0, curve };

  const perUser = (column: Uint32Array, length: number, weight?: Float32Array) => {
    const out = new Float64Array(nUsers);
    for (let r = 0; r < length; r++) out[column[r]!]! += weight ? weight[r]! : 1;
    return out;
  };
  const ratings = perUser(data.ratings.users, data.ratings.length);
  const watches = perUser(data.watches.users, data.watches.length);
  const minutes = perUser(data.watches.users, data.watches.length, data.watches.minutes);
  const groups = new Map<string, GroupBalance[]>();
  for (const [attr, labels] of assignment) {
    const rowsOf = new Map<string, number[]>();
    for (let u = 0; u < nUsers; u++) {
      const g = labels.get(data.userIds[u]!);
      if (g !== undefined) (rowsOf.get(g) ?? rowsOf.set(g, []).get(g)!).push(u);
    }
    groups.set(attr, [...rowsOf].map(([group, rows]) => {
      const sum = (a: Float64Array) => rows.reduce((s, u) => s + a[u]!, 0);
      const acts = rows.map((u) => activity[u]!);
      const interactions = sum(activity);
      return {
        group, users: rows.length, ratings: sum(ratings), watches: sum(watches), watchMinutes: sum(minutes),
        activity: { mean: interactions / rows.length, p25: quantile(acts, 0.25), median: quantile(acts, 0.5), p75: quantile(acts, 0.75), p90: quantile(acts, 0.9) },
        longTailShare: interactions ? sum(tailByUser) / interactions : 0,
      };
    }));
  }
  return { items, groups, inTail };
}
