import { engineParams, ratingRange, scorerErrors, scorerRanking, trainScorer, TrainOptionsSchema, type EngineName, type RatingSet } from "@recsys/train";
import { foldSplit } from "./folds.ts";

/** What every worker holds once per data set: the ratings (shared memory), each rating's fold, the users ranked. */
export interface FoldData {
  ratings: RatingSet;
  nUsers: number;
  nItems: number;
  foldOf: Uint8Array;
  /** 1 for the users whose top-20 list is scored (a seeded sample; see tune's rankUsers); all 0 = no ranking. */
  rankedUsers: Uint8Array;
}

export interface FoldJob {
  engine: EngineName;
  config: Record<string, number>;
  epochs: number;
  seed: number;
  /** Index of the data set in the pool's list. */
  data: number;
  fold: number;
}

/** A fold's held-out RMSE and, when users are ranked, its nDCG@20 and recall@20 (null otherwise). */
export interface FoldResult { rmse: number; ndcg: number | null; recall: number | null; seconds: number }

/**
 * Trains one configuration on every fold but `fold` and scores it on `fold`, single-threaded
 * (the pool runs folds side by side on the cores instead). Predictions are clipped to the scale
 * seen in the data, so any rating scale works. Ranking is scored as the API ranks (top 20 among
 * unseen movies, relevant = rated >= 4 in the fold) for the sampled users only: for every user it
 * would cost as much as the fit itself on ml-latest-small's 9.7k movies.
 */
export async function runFoldJob(d: FoldData, job: FoldJob): Promise<FoldResult> {
  const started = performance.now();
  const { train, test } = foldSplit(d.ratings, d.foldOf, job.fold);
  const options = TrainOptionsSchema.parse({ engine: job.engine, ...job.config, epochs: job.epochs, seed: job.seed });
  const scorer = await trainScorer({ train, nUsers: d.nUsers, nItems: d.nItems }, job.engine, engineParams(options), { threads: 1 });
  const { rmse } = scorerErrors(scorer, test, ratingRange(d.ratings));
  const ranking = d.rankedUsers.includes(1) ? scorerRanking(scorer, train, test, d.nUsers, d.nItems, undefined, d.rankedUsers) : null;
  return { rmse, ndcg: ranking?.ndcg ?? null, recall: ranking?.recall ?? null, seconds: (performance.now() - started) / 1000 };
}
