import { NO_GROUP, rankingBias, type RecModel } from "@recsys/artifact";
import { TopK } from "./top-k.ts";

/** Results per request: the contract's "up to 20". */
export const RESULT_COUNT = 20;
/**
 * Cold-start score = (1 − w) · overall share + w · group share. The group's own popularity
 * leads, the overall share keeps thin groups (few users, noisy counts) from odd lists.
 */
const GROUP_WEIGHT = 0.7;

/**
 * What serving needs beside the raw model, computed once per model (a few ms for 20k movies):
 * id lookups, the cold-start lists, the less-exposed pool for exploration, and the scratch
 * buffers every request reuses. Requests run one at a time on the event loop, so one scratch
 * set per model is enough.
 */
export interface ServingIndex {
  rowOfUser: Map<number, number>;
  /** Best-first cold-start items: index 0 = overall, 1 + g = demographic group g. */
  coldLists: Int32Array[];
  /** Lower half of the catalogue by recency-weighted popularity: exploration draws from it. */
  lessExposed: Uint32Array;
  heap: TopK;
  /** marker[i] === generation means item i is excluded in the current request. */
  marker: Uint32Array;
  generation: number;
  best: Int32Array;
  /** Scratch of calibrated re-ranking: the wider candidate list, made on its first use. */
  wide: { heap: TopK; items: Int32Array; scores: Float64Array } | null;
  /** The item term of the ranking for the popularity prior last asked for (artifact's rankingBias). */
  ranking: { prior: number; bias: Float32Array };
}

const indexes = new WeakMap<RecModel, ServingIndex>();

/** The model's serving index, built on first use and kept as long as the model lives. */
export function servingIndex(model: RecModel): ServingIndex {
  let index = indexes.get(model);
  if (!index) {
    index = buildIndex(model);
    indexes.set(model, index);
  }
  return index;
}

function buildIndex(model: RecModel): ServingIndex {
  const rowOfUser = new Map<number, number>();
  model.meta.userIds.forEach((id, row) => rowOfUser.set(id, row));
  const n = model.nItems;
  const overall = normalised(model.itemPopularity, 0, n);
  const coldLists = [topByScore(overall, RESULT_COUNT)];
  const blended = new Float64Array(n);
  for (let g = 0; g < model.meta.groups.length; g++) {
    const group = normalised(model.groupPopularity, g * n, n);
    for (let i = 0; i < n; i++) blended[i] = (1 - GROUP_WEIGHT) * overall[i]! + GROUP_WEIGHT * group[i]!;
    coldLists.push(topByScore(blended, RESULT_COUNT));
  }
  const byPopularity = Array.from({ length: n }, (_, i) => i).sort((a, b) => overall[a]! - overall[b]! || a - b);
  return {
    rowOfUser,
    coldLists,
    lessExposed: Uint32Array.from(byPopularity.slice(0, Math.floor(n / 2))),
    heap: new TopK(RESULT_COUNT),
    marker: new Uint32Array(n),
    generation: 0,
    best: new Int32Array(RESULT_COUNT),
    wide: null,
    ranking: { prior: 0, bias: model.itemBias },
  };
}

/** The item term to rank with under `prior`, computed once per model and prior (the server's prior is fixed). */
export function rankingBiasOf(model: RecModel, index: ServingIndex, prior: number): Float32Array {
  if (index.ranking.prior !== prior) index.ranking = { prior, bias: rankingBias(model.itemBias, model.itemPopularity, prior) };
  return index.ranking.bias;
}

/** A popularity row scaled to sum 1 (all zero stays zero), as doubles. */
function normalised(values: Float32Array, offset: number, n: number): Float64Array {
  const out = new Float64Array(n);
  let sum = 0;
  for (let i = 0; i < n; i++) sum += Math.max(0, values[offset + i]!);
  if (sum > 0) for (let i = 0; i < n; i++) out[i] = Math.max(0, values[offset + i]!) / sum;
  return out;
}

function topByScore(scores: Float64Array, count: number): Int32Array {
  const heap = new TopK(Math.min(count, scores.length));
  for (let i = 0; i < scores.length; i++) heap.push(scores[i]!, i);
  const out = new Int32Array(heap.size);
  heap.drainBestFirst(out);
  return out;
}

/** The candidate-list scratch for `candidates` items (re-made when the configured size changes). */
export function wideScratch(index: ServingIndex, candidates: number): NonNullable<ServingIndex["wide"]> {
  if (index.wide?.heap.capacity !== candidates) {
    index.wide = { heap: new TopK(candidates), items: new Int32Array(candidates), scores: new Float64Array(candidates) };
  }
  return index.wide;
}

/** Starts a request's exclusion set: afterwards no item is marked. */
export function nextGeneration(index: ServingIndex): number {
  if (++index.generation === 0xffffffff) {
    index.marker.fill(0);
    index.generation = 1;
  }
  return index.generation;
}

/** The demographic group of a user with side information, or NO_GROUP. */
export function sideGroupOf(model: RecModel, userId: number): number {
  const ids = model.sideUserIds;
  let lo = 0, hi = ids.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const v = ids[mid]!;
    if (v === userId) return model.sideUserGroups[mid]!;
    if (v < userId) lo = mid + 1;
    else hi = mid - 1;
  }
  return NO_GROUP;
}
