import { UNKNOWN, rowsByUser, type RatingSet } from "./ratings.ts";
import { errorMetrics, rawPredict, type FactorModel } from "./factors.ts";
import type { Scorer } from "./scorer.ts";
import { loadRatingsAgainst } from "./data.ts";
import { modelRatingScale, rankingBias, type RecModel } from "@recsys/artifact";
import { clipToScale, type RatingScale } from "@recsys/core";

export interface EvaluationOptions {
  /** List length of the ranking metrics. */
  topN: number;
  /** A rating at or above this is a relevant item. */
  relevantAt: number;
  /** Ranking adds this x ln(1 + movie popularity) to each score, as the API's popularity prior does (default 0 = off). */
  popularityPrior?: number;
}

export const EVALUATION_DEFAULTS: EvaluationOptions = { topN: 20, relevantAt: 4, popularityPrior: 0 };

export interface EvaluationReport {
  ratings: number;
  rmse: number;
  mae: number;
  /** Ratings whose user or movie the model does not know (predicted from the biases it has). */
  unknownRatings: number;
  /** Known users of the data: each gets a top-N list. */
  rankedUsers: number;
  /** Of those, users with at least one relevant unseen movie: they carry precision/recall/nDCG. */
  relevantUsers: number;
  precision: number;
  recall: number;
  ndcg: number;
  /** Distinct movies in all top-N lists / catalogue size. */
  coverage: number;
  topN: number;
  relevantAt: number;
  popularityPrior: number;
}

/** A RecModel seen as the factor model the metrics use (same arrays, no copy). */
export function factorView(model: RecModel): FactorModel {
  return { ...model, globalMean: model.meta.globalMean };
}

/**
 * Scores a model on the ratings of a dataset directory: RMSE and MAE of predictions clipped to
 * the model's rating scale (the data's ratings must lie on it, else an InputError names file:line),
 * and ranking quality as the API serves it: for each known user, the top-N movies by predicted
 * score among those the user had not seen in training (the model's seen list); relevant =
 * movies the user rated >= relevantAt in the data and had not seen. precision = hits / N,
 * recall = hits / relevant, nDCG with binary gains; averaged over users with a relevant movie.
 *
 *     const report = await evaluateModel(await loadRecModel("models/m1"), "data/next-week");
 */
export async function evaluateModel(model: RecModel, dataDir: string, options: EvaluationOptions = EVALUATION_DEFAULTS): Promise<EvaluationReport> {
  const userIndex = new Map(model.meta.userIds.map((id, u) => [id, u]));
  const movieIndex = new Map(model.meta.movieIds.map((id, i) => [id, i]));
  return evaluateRatings(model, await loadRatingsAgainst(dataDir, userIndex, movieIndex, modelRatingScale(model.meta)), options);
}

/** evaluateModel on ratings already mapped to the model's rows. */
export function evaluateRatings(model: RecModel, s: RatingSet, options: EvaluationOptions = EVALUATION_DEFAULTS): EvaluationReport {
  const fm = factorView(model);
  const scale = modelRatingScale(model.meta);
  const { rmse, mae } = model.userItemScores ? tableErrors(model, s, scale) : errorMetrics(fm, s, scale);
  let unknownRatings = 0;
  for (let r = 0; r < s.length; r++) if (s.users[r] === UNKNOWN || s.items[r] === UNKNOWN) unknownRatings++;
  return { ratings: s.length, rmse, mae, unknownRatings, ...rankingMetrics(model, s, options), ...options, popularityPrior: options.popularityPrior ?? 0 };
}

/** errorMetrics for a model with a user-item table: the table joins the prediction where user and movie are known. */
function tableErrors(model: RecModel, s: RatingSet, scale: RatingScale): { rmse: number; mae: number } {
  const fm = factorView(model), table = model.userItemScores!;
  let se = 0, ae = 0;
  for (let r = 0; r < s.length; r++) {
    const u = s.users[r]!, i = s.items[r]!;
    const raw = rawPredict(fm, u, i) + (u !== UNKNOWN && i !== UNKNOWN ? table[u * model.nItems + i]! : 0);
    const e = s.values[r]! - clipToScale(scale, raw);
    se += e * e; ae += Math.abs(e);
  }
  return { rmse: Math.sqrt(se / s.length), mae: ae / s.length };
}

/** What ranking reads of a model: its serving scores (factors plus any user-item table) and each user's seen movies. */
type Rankable = Pick<RecModel, "nItems" | "k" | "userFactors" | "itemFactors" | "itemBias" | "itemPopularity" | "seenOffsets" | "seenItems" | "userItemScores">;
export type RankingReport = ReturnType<typeof rankingMetrics>;

/**
 * Ranking quality of a trained scorer (any engine) as the API would rank with its serving form,
 * with `train` as each user's seen movies: what cross-validation (recsys tune, bench/train.ts)
 * reports beside RMSE, without writing an artifact. `onlyUsers` (0/1 per user row) ranks a sample.
 * A popularity prior counts each movie's training ratings as its popularity.
 *
 *     const { ndcg, recall } = scorerRanking(scorer, train, test, nUsers, nItems);
 */
export function scorerRanking(scorer: Scorer, train: RatingSet, test: RatingSet, nUsers: number, nItems: number, options: EvaluationOptions = EVALUATION_DEFAULTS, onlyUsers?: Uint8Array): RankingReport {
  const { factors: f, userItemScores } = scorer.serving();
  const { offsets: seenOffsets, order } = rowsByUser(train, nUsers);
  const seenItems = order.map((r) => train.items[r]!), itemPopularity = new Float32Array(nItems);
  for (let r = 0; r < train.length; r++) itemPopularity[train.items[r]!]!++;
  // A biases-only model (k 0) may carry no user factors at all: nothing to multiply.
  const userFactors = f.k === 0 ? new Float32Array(0) : f.userFactors;
  return rankingMetrics({ nItems, k: f.k, userFactors, itemFactors: f.itemFactors, itemBias: f.itemBias, itemPopularity, seenOffsets, seenItems, userItemScores }, test, options, onlyUsers);
}

/** `onlyUsers`: a 0/1 mask over user rows; the users with 0 are not ranked (a sample, to bound the cost). */
function rankingMetrics(model: Rankable, s: RatingSet, { topN, relevantAt, popularityPrior = 0 }: EvaluationOptions, onlyUsers?: Uint8Array) {
  const byUser = new Map<number, number[]>();
  for (let r = 0; r < s.length; r++) {
    const u = s.users[r]!;
    if (u === UNKNOWN || (onlyUsers && !onlyUsers[u])) continue;
    let rows = byUser.get(u);
    if (!rows) byUser.set(u, (rows = []));
    if (s.items[r] !== UNKNOWN && s.values[r]! >= relevantAt) rows.push(s.items[r]!);
  }
  const seen = new Uint8Array(model.nItems), listed = new Uint8Array(model.nItems), scores = new Float64Array(model.nItems);
  const top = new Int32Array(topN), bias = rankingBias(model.itemBias, model.itemPopularity, popularityPrior);
  let relevantUsers = 0, precision = 0, recall = 0, ndcg = 0;
  for (const [u, relevantRows] of byUser) {
    const from = model.seenOffsets[u]!, to = model.seenOffsets[u + 1]!;
    for (let j = from; j < to; j++) seen[model.seenItems[j]!] = 1;
    scoreItems(model, bias, u, scores);
    const n = selectTop(scores, seen, top);
    const relevant = new Set(relevantRows.filter((i) => !seen[i]));
    for (let j = from; j < to; j++) seen[model.seenItems[j]!] = 0;
    let hits = 0, dcg = 0;
    for (let j = 0; j < n; j++) {
      listed[top[j]!] = 1;
      if (relevant.has(top[j]!)) { hits++; dcg += 1 / Math.log2(j + 2); }
    }
    if (relevant.size === 0) continue;
    let idcg = 0;
    for (let j = 0; j < Math.min(relevant.size, topN); j++) idcg += 1 / Math.log2(j + 2);
    relevantUsers++; precision += hits / topN; recall += hits / relevant.size; ndcg += dcg / idcg;
  }
  const avg = (x: number) => (relevantUsers ? x / relevantUsers : 0);
  const coverage = listed.reduce((a, b) => a + b, 0) / Math.max(1, model.nItems);
  return { rankedUsers: byUser.size, relevantUsers, precision: avg(precision), recall: avg(recall), ndcg: avg(ndcg), coverage };
}

/** Item term (bias, with any popularity prior) + dot product: the user's ranking (mean and user bias shift every item alike). */
function scoreItems(model: Rankable, bias: Float32Array, u: number, out: Float64Array): void {
  const k = model.k, uo = u * k, P = model.userFactors, Q = model.itemFactors;
  for (let i = 0; i < model.nItems; i++) {
    let s = bias[i]!;
    const io = i * k;
    for (let f = 0; f < k; f++) s += P[uo + f]! * Q[io + f]!;
    // A model without a full factor form (kNN, blend) adds its user-item table, as the API does.
    out[i] = model.userItemScores ? s + model.userItemScores[u * model.nItems + i]! : s;
  }
}

/** Indexes of the highest scores among unseen items into `top` (best first; ties to the lower row); returns the count. */
function selectTop(scores: Float64Array, seen: Uint8Array, top: Int32Array): number {
  let n = 0;
  for (let i = 0; i < scores.length; i++) {
    if (seen[i]) continue;
    const s = scores[i]!;
    if (n === top.length && s <= scores[top[n - 1]!]!) continue;
    let j = n < top.length ? n++ : n - 1;
    while (j > 0 && scores[top[j - 1]!]! < s) { top[j] = top[j - 1]!; j--; }
    top[j] = i;
  }
  return n;
}
