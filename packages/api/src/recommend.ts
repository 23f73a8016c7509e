import { createRng, hashString } from "@recsys/core";
import type { RecModel } from "@recsys/artifact";
import { RESULT_COUNT, nextGeneration, rankingBiasOf, servingIndex, sideGroupOf, wideScratch, type ServingIndex } from "./serving-index.ts";
import { calibratedRerank, genreDistribution, itemGenres, type CalibrationOptions } from "./calibration.ts";
import type { TopK } from "./top-k.ts";

export interface RecommendOptions {
  /** Share of the RESULT_COUNT slots given to exploration, 0 to 0.5 (0.1 → 2 slots). Default 0. */
  exploreShare?: number;
  /** UTC day "YYYY-MM-DD" that seeds exploration with the user and model; the server passes today's. */
  day?: string;
  /**
   * Calibrated re-ranking of a known user's list (Steck 2018): the served movies are picked from
   * the best `candidates` so that their genres follow the user's history. Absent: plain score order.
   */
  calibration?: CalibrationOptions;
  /**
   * Weight of ln(1 + recency-weighted popularity) added to each movie's score when ranking a known
   * user's movies (artifact's rankingBias). Default 0: the model's own order.
   */
  popularityPrior?: number;
}

export interface Recommendation {
  /** Movie ids, best first, distinct, at most RESULT_COUNT. */
  ids: string[];
  /** 0-based positions in `ids` that exploration filled, ascending. */
  exploreSlots: number[];
  /** What ranked the list: the user's factors, group popularity or overall popularity. */
  source: "model" | "group" | "popular";
}

/** The id rule lives in core so the router and the API agree on who a request is for. */
export { MAX_USER_ID, parseUserId } from "@recsys/core";

/**
 * Recommends up to 20 movies for a user: for a user the model knows, the highest-scoring
 * unseen movies (item bias + factor dot product, plus the model's user-item table when it has
 * one; the user's constant terms do not change the order); for anyone else, recent popularity in the user's demographic group when side
 * information places them in one, else overall. With `exploreShare`, that share of the slots
 * goes to movies from the less-exposed half of the catalogue that the list would not have
 * shown, at positions after the first; the draw depends only on user, model hash and day.
 * With `calibration`, a known user's list is first re-ranked for genre calibration.
 * Pure in its result; it reuses the model's scratch buffers, so it allocates only the answer.
 *
 *     recommend(model, 42, { exploreShare: 0.1, day: "2026-12-01" }).ids.join(",")
 */
export function recommend(model: RecModel, userId: number, options: RecommendOptions = {}): Recommendation {
  const index = servingIndex(model);
  const generation = nextGeneration(index);
  const row = index.rowOfUser.get(userId);
  let count = 0;
  let source: Recommendation["source"] = "model";
  if (row !== undefined) {
    const bias = rankingBiasOf(model, index, options.popularityPrior ?? 0);
    count = options.calibration ? calibrated(model, index, bias, row, generation, options.calibration) : scoreUnseen(model, index, bias, index.heap, row, generation, index.best);
  }
  if (count === 0) {
    // Unknown users, and the rare user who has seen the whole catalogue: popularity.
    const group = row === undefined ? sideGroupOf(model, userId) : -1;
    const fromGroup = group >= 0 && group < model.meta.groups.length;
    const list = index.coldLists[fromGroup ? 1 + group : 0]!;
    index.best.set(list);
    count = list.length;
    source = fromGroup ? "group" : "popular";
  }
  for (let r = 0; r < count; r++) index.marker[index.best[r]!] = generation;
  const wanted = Math.min(Math.round((options.exploreShare ?? 0) * RESULT_COUNT), count > 0 ? RESULT_COUNT - 1 : 0);
  if (wanted === 0) return { ids: namesOf(model, index.best, count), exploreSlots: [], source };
  return withExploration(model, index, userId, count, wanted, options.day ?? "", generation, source);
}

/** Top `heap.capacity` unseen items of a known user by `bias` + dot product, best first, into `out` (scores into `scoresOut`); returns how many. */
function scoreUnseen(model: RecModel, index: ServingIndex, bias: Float32Array, heap: TopK, row: number, generation: number, out: Int32Array, scoresOut?: Float64Array): number {
  const { marker } = index;
  for (let s = model.seenOffsets[row]!, end = model.seenOffsets[row + 1]!; s < end; s++) marker[model.seenItems[s]!] = generation;
  const k = model.k, uf = model.userFactors, itf = model.itemFactors;
  const uo = row * k, k4 = k & ~3;
  // Models without a full factor form (kNN, blends with it) add a precomputed per-(user, item) score.
  const extra = model.userItemScores, eo = row * model.nItems;
  const capacity = heap.capacity;
  heap.reset();
  for (let i = 0, io = 0; i < model.nItems; i++, io += k) {
    if (marker[i] === generation) continue;
    // Four independent sums let the CPU overlap the multiply-adds (~30% faster at k=64).
    let s0 = bias[i]!, s1 = 0, s2 = 0, s3 = 0, f = 0;
    for (; f < k4; f += 4) {
      s0 += uf[uo + f]! * itf[io + f]!;
      s1 += uf[uo + f + 1]! * itf[io + f + 1]!;
      s2 += uf[uo + f + 2]! * itf[io + f + 2]!;
      s3 += uf[uo + f + 3]! * itf[io + f + 3]!;
    }
    for (; f < k; f++) s0 += uf[uo + f]! * itf[io + f]!;
    const score = extra === undefined ? s0 + s1 + s2 + s3 : s0 + s1 + s2 + s3 + extra[eo + i]!;
    if (heap.size < capacity || score > heap.scores[0]!) heap.push(score, i);
  }
  return heap.drainBestFirst(out, scoresOut);
}

/** The best `candidates` unseen items re-ranked for calibration into index.best; returns how many. */
function calibrated(model: RecModel, index: ServingIndex, bias: Float32Array, row: number, generation: number, c: CalibrationOptions): number {
  const wide = wideScratch(index, c.candidates);
  const n = scoreUnseen(model, index, bias, wide.heap, row, generation, wide.items, wide.scores);
  const genresOf = itemGenres(model, c.genres);
  const history = genreDistribution(model.seenItems.subarray(model.seenOffsets[row]!, model.seenOffsets[row + 1]!), genresOf);
  const picked = calibratedRerank(wide.items.subarray(0, n), wide.scores, genresOf, history, c.lambda, RESULT_COUNT);
  index.best.set(picked);
  return picked.length;
}

function namesOf(model: RecModel, items: Int32Array, count: number): string[] {
  const ids = new Array<string>(count);
  for (let r = 0; r < count; r++) ids[r] = model.meta.movieIds[items[r]!]!;
  return ids;
}

function withExploration(
  model: RecModel, index: ServingIndex, userId: number, count: number, wanted: number,
  day: string, generation: number, source: Recommendation["source"],
): Recommendation {
  const rng = createRng(hashString(`${userId}|${model.meta.modelHash}|${day}`));
  const pool = index.lessExposed;
  const explore: number[] = [];
  // Rejection sampling with a bounded number of tries: the pool is half the catalogue and
  // at most ~40 of its items are excluded for a typical user, so misses are rare.
  for (let tries = 0; explore.length < wanted && pool.length > 0 && tries < wanted * 32; tries++) {
    const item = pool[rng.int(pool.length)]!;
    if (index.marker[item] === generation) continue;
    index.marker[item] = generation;
    explore.push(item);
  }
  const kept = Math.min(count, RESULT_COUNT - explore.length);
  const total = kept + explore.length;
  // Distinct slots among 1..total-1 (slot 0 stays the model's best pick): partial Fisher-Yates.
  const positions = Array.from({ length: total - 1 }, (_, i) => i + 1);
  for (let j = 0; j < explore.length; j++) {
    const pick = j + rng.int(positions.length - j);
    [positions[j], positions[pick]] = [positions[pick]!, positions[j]!];
  }
  const exploreSlots = positions.slice(0, explore.length).sort((a, b) => a - b);
  const ids = new Array<string>(total);
  for (let p = 0, e = 0, t = 0; p < total; p++) {
    const item = exploreSlots[e] === p ? explore[e++]! : index.best[t++]!;
    ids[p] = model.meta.movieIds[item]!;
  }
  return { ids, exploreSlots, source };
}
