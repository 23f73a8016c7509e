import { engineParams, ratingRange, scorerErrors, trainScorer, TrainOptionsSchema, type EngineName, type RatingSet } from "@recsys/train";
import { foldSplit } from "./folds.ts";

/** What every worker holds once: the ratings (shared memory) and the fold of each rating. */
export interface FoldData {
  ratings: RatingSet;
  nUsers: number;
  nItems: number;
  foldOf: Uint8Array;
}

export interface FoldJob {
  engine: EngineName;
  config: Record<string, number>;
  epochs: number;
  seed: number;
  fold: number;
}

export interface FoldResult { rmse: number; seconds: number }

/**
 * Trains one configuration on every fold but `fold` and scores it on `fold`, single-threaded
 * (the pool runs folds side by side on the cores instead). Predictions are clipped to the scale
 * seen in the data, so any rating scale works.
 */
export async function runFoldJob(d: FoldData, job: FoldJob): Promise<FoldResult> {
  const started = performance.now();
  const { train, test } = foldSplit(d.ratings, d.foldOf, job.fold);
  const options = TrainOptionsSchema.parse({ engine: job.engine, ...job.config, epochs: job.epochs, seed: job.seed });
  const scorer = await trainScorer({ train, nUsers: d.nUsers, nItems: d.nItems }, job.engine, engineParams(options), { threads: 1 });
  const { rmse } = scorerErrors(scorer, test, ratingRange(d.ratings));
  return { rmse, seconds: (performance.now() - started) / 1000 };
}
