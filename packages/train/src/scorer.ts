import { InputError } from "@recsys/core";
import type { EngineHooks, EngineName, EngineParams } from "./engine.ts";
import { rawPredict, type FactorModel } from "./factors.ts";
import type { RatingSet } from "./ratings.ts";
import { knnScorer, trainKnn } from "./knn.ts";
import { trainBlend } from "./blend.ts";
import { trainModel, type TrainModelHooks, type TrainModelInput } from "./train-model.ts";

/**
 * A trained model of any engine, as cross-validation, the gate and the artifact need it.
 * `raw` is the unclipped prediction for rows of the id maps (UNKNOWN falls back to the biases
 * that are known); `serving` is what the API scores with: a biased MF plus, for a model without
 * a factor form (kNN), a dense [nUsers x nItems] table added to the factor score.
 */
export interface Scorer {
  raw(u: number, i: number): number;
  serving(): { factors: FactorModel; userItemScores?: Float32Array };
}

/** The scale predictions are clipped to: taken from the ratings, so no star scale is assumed. */
export interface RatingRange { min: number; max: number }

export function ratingRange(s: RatingSet): RatingRange {
  let min = Infinity, max = -Infinity;
  for (let r = 0; r < s.length; r++) { const v = s.values[r]!; if (v < min) min = v; if (v > max) max = v; }
  return { min, max };
}

export function factorScorer(m: FactorModel): Scorer {
  return { raw: (u, i) => rawPredict(m, u, i), serving: () => ({ factors: m }) };
}

/** RMSE and MAE of a scorer's predictions clipped to `range` (NaN on an empty set). */
export function scorerErrors(s: Scorer, test: RatingSet, range: RatingRange): { rmse: number; mae: number; count: number } {
  let se = 0, ae = 0;
  for (let r = 0; r < test.length; r++) {
    const p = Math.min(range.max, Math.max(range.min, s.raw(test.users[r]!, test.items[r]!)));
    const e = test.values[r]! - p;
    se += e * e; ae += Math.abs(e);
  }
  return { rmse: Math.sqrt(se / test.length), mae: ae / test.length, count: test.length };
}

/**
 * Trains any engine: sgd, tfjs and autorec through trainModel (a factor model), knn and blend through their
 * own trainers. The result scores held-out ratings (`scorerErrors`) and goes into the artifact.
 *
 *     const s = await trainScorer({ train, nUsers, nItems }, "knn", engineParams(options));
 */
export async function trainScorer(input: TrainModelInput, engine: EngineName, params: EngineParams, hooks: TrainModelHooks & EngineHooks = {}): Promise<Scorer> {
  if (engine === "knn" && input.implicit) throw new InputError("RECSYS_USAGE", "the implicit watch signal (SVD++) is for the sgd and blend engines, not knn");
  if (engine === "knn") return knnScorer(await trainKnn(input.train, input.nUsers, input.nItems, params));
  if (engine === "blend") return trainBlend(input.train, input.nUsers, input.nItems, params, input.implicit);
  return factorScorer(await trainModel(input, engine, params, hooks));
}
