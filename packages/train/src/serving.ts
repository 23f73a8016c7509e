import { demographicGroup } from "@recsys/core";
import { NO_GROUP, type RecModelTensors } from "@recsys/artifact";
import type { TrainingData } from "./data.ts";

/** Popularity weight halves for every this many days an interaction lies before the dataset's last event. */
export const POPULARITY_HALF_LIFE_DAYS = 14;

export type ServingTensors = Pick<RecModelTensors, "seenOffsets" | "seenItems" | "itemPopularity" | "groupPopularity" | "sideUserIds" | "sideUserGroups">;

/**
 * What serving needs beside the factors, from the full training data (ratings and watches):
 * - each user's seen movies (rated or watched, deduplicated, sorted) as CSR;
 * - recency-weighted popularity: each distinct (user, movie) interaction adds 2^(-age / half-life),
 *   age = days from its latest event to `now` (the dataset's last event), overall and per
 *   demographic group of the user (core demographicGroup; `groups` sorted);
 * - the group index of every user in users.jsonl (NO_GROUP without age or gender).
 *
 *     const { groups, tensors } = servingTensors(data, Date.parse(data.manifest.timeRange.last!));
 */
export function servingTensors(data: TrainingData, now: number): { groups: string[]; tensors: ServingTensors } {
  const nUsers = data.userIds.length, nItems = data.movieIds.length;
  const labelOf = new Map<number, string | null>(data.users.map((u) => [u.user_id, demographicGroup(u)]));
  const groups = [...new Set([...labelOf.values()].filter((g): g is string => g !== null))].sort();
  if (groups.length >= NO_GROUP) throw new Error(`too many demographic groups (${groups.length})`);
  const groupIndex = new Map(groups.map((g, i) => [g, i]));
  const rowGroup = new Int32Array(nUsers).fill(-1);
  data.userIds.forEach((id, u) => { const g = labelOf.get(id); if (g) rowGroup[u] = groupIndex.get(g)!; });

  // Interactions of both kinds, bucketed by user (counting sort).
  const { ratings: R, watches: W } = data;
  const total = R.length + W.length;
  const offsets = new Uint32Array(nUsers + 1);
  for (let r = 0; r < R.length; r++) offsets[R.users[r]! + 1]!++;
  for (let w = 0; w < W.length; w++) offsets[W.users[w]! + 1]!++;
  for (let u = 0; u < nUsers; u++) offsets[u + 1]! += offsets[u]!;
  const fill = offsets.slice(0, nUsers), items = new Uint32Array(total), times = new Float64Array(total);
  const put = (u: number, i: number, t: number) => { const at = fill[u]!++; items[at] = i; times[at] = t; };
  for (let r = 0; r < R.length; r++) put(R.users[r]!, R.items[r]!, R.times[r]!);
  for (let w = 0; w < W.length; w++) put(W.users[w]!, W.items[w]!, W.times[w]!);

  const itemPopularity = new Float32Array(nItems), groupPopularity = new Float32Array(groups.length * nItems);
  const popularity = new Float64Array(nItems), groupPop = new Float64Array(groups.length * nItems);
  const seenOffsets = new Uint32Array(nUsers + 1), seen = new Uint32Array(total);
  const latest = new Float64Array(nItems), owner = new Int32Array(nItems).fill(-1);
  const halfLife = POPULARITY_HALF_LIFE_DAYS * 86_400_000;
  let nSeen = 0;
  for (let u = 0; u < nUsers; u++) {
    const start = nSeen;
    for (let at = offsets[u]!; at < offsets[u + 1]!; at++) {
      const i = items[at]!;
      if (owner[i] !== u) { owner[i] = u; latest[i] = times[at]!; seen[nSeen++] = i; } else if (times[at]! > latest[i]!) latest[i] = times[at]!;
    }
    const mine = seen.subarray(start, nSeen).sort();
    const g = rowGroup[u]!;
    for (let j = 0; j < mine.length; j++) {
      const i = mine[j]!, weight = Math.pow(2, -Math.max(0, now - latest[i]!) / halfLife);
      popularity[i]! += weight;
      if (g >= 0) groupPop[g * nItems + i]! += weight;
    }
    seenOffsets[u + 1] = nSeen;
  }
  itemPopularity.set(popularity); groupPopularity.set(groupPop);

  const side = [...labelOf].map(([id, g]) => ({ id, g })).sort((a, b) => a.id - b.id);
  return {
    groups,
    tensors: {
      seenOffsets, seenItems: seen.slice(0, nSeen), itemPopularity, groupPopularity,
      sideUserIds: Uint32Array.from(side, (s) => s.id),
      sideUserGroups: Uint8Array.from(side, (s) => (s.g ? groupIndex.get(s.g)! : NO_GROUP)),
    },
  };
}
