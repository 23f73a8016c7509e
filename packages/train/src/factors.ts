import { clipToScale, createRng, STREAM_RATING_SCALE, type RatingScale } from "@recsys/core";
import type { RecModel } from "@recsys/artifact";
import { UNKNOWN, type RatingSet } from "./ratings.ts";

/** Biased matrix factorisation: r(u,i) = mean + bu + bi + pu . qi, rows as in the id maps (the artifact's layout). */
export type FactorModel = Pick<RecModel, "k" | "nUsers" | "nItems" | "userBias" | "itemBias" | "userFactors" | "itemFactors"> & {
  globalMean: number;
};

/** The stream's 1..5 stars; kept for callers that predate per-dataset scales (see core's RatingScale). */
export const RATING_MIN = STREAM_RATING_SCALE.min;
export const RATING_MAX = STREAM_RATING_SCALE.max;

/** A model with zero biases and factors drawn N(0, initStd^2) from the seed (users first, then items). */
export function initFactorModel(nUsers: number, nItems: number, k: number, globalMean: number, initStd: number, seed: number): FactorModel {
  const rng = createRng(seed).fork("init");
  const userFactors = new Float32Array(nUsers * k), itemFactors = new Float32Array(nItems * k);
  for (let j = 0; j < userFactors.length; j++) userFactors[j] = rng.normal() * initStd;
  for (let j = 0; j < itemFactors.length; j++) itemFactors[j] = rng.normal() * initStd;
  return { k, nUsers, nItems, globalMean, userBias: new Float32Array(nUsers), itemBias: new Float32Array(nItems), userFactors, itemFactors };
}

/**
 * Predicted rating clipped to the dataset's rating scale (the stream's 1..5 unless given). A user
 * or movie the model lacks (row UNKNOWN) contributes nothing: the prediction falls back to mean +
 * the bias it does know.
 */
export function predict(m: FactorModel, u: number, i: number, scale: RatingScale = STREAM_RATING_SCALE): number {
  return clipToScale(scale, rawPredict(m, u, i));
}

/** predict without the clipping: what a blend combines and the API ranks by. */
export function rawPredict(m: FactorModel, u: number, i: number): number {
  let p = m.globalMean;
  const knownU = u !== UNKNOWN, knownI = i !== UNKNOWN;
  if (knownU) p += m.userBias[u]!;
  if (knownI) p += m.itemBias[i]!;
  if (knownU && knownI) {
    const k = m.k, uo = u * k, io = i * k, pu = m.userFactors, qi = m.itemFactors;
    for (let f = 0; f < k; f++) p += pu[uo + f]! * qi[io + f]!;
  }
  return p;
}

export interface ErrorMetrics { rmse: number; mae: number; count: number }

/** RMSE and MAE of the model's predictions, clipped to `scale`, on a rating set (NaN when it is empty). */
export function errorMetrics(m: FactorModel, s: RatingSet, scale: RatingScale = STREAM_RATING_SCALE): ErrorMetrics {
  let se = 0, ae = 0;
  for (let r = 0; r < s.length; r++) {
    const e = s.values[r]! - predict(m, s.users[r]!, s.items[r]!, scale);
    se += e * e; ae += Math.abs(e);
  }
  return { rmse: Math.sqrt(se / s.length), mae: ae / s.length, count: s.length };
}
