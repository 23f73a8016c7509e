/**
 * Why the popularity list beats every rating model on nDCG@20 (bench/RESULTS.md, "Model quality"):
 * on one seeded CV fold, ranks the held-out fold with the popularity list, the sgd defaults, and
 * the sgd defaults with a popularity prior added to each movie's score (score + beta * ln(1 +
 * training ratings of the movie)), and prints nDCG@20, recall@20 and catalogue coverage, beside
 * how concentrated the relevant held-out ratings are on the most-rated movies.
 *
 *     npx tsx bench/ranking.ts --data DATASET_DIR          # an ingested dataset (recsys ingest)
 *     npx tsx bench/ranking.ts --movielens DIR             # a ratings.csv (ml-latest-small; never committed)
 */
import { parseArgs } from "node:util";
import { ENGINE_DEFAULTS, loadTrainingData, scorerRanking, trainScorer, type RatingSet, type Scorer } from "@recsys/train";
import { assignFolds, foldSplit } from "@recsys/tune";
import { popularity } from "./lib/model-cv.ts";
import { readMovieLensRatings } from "./lib/movielens-ratings.ts";

const { values: args } = parseArgs({ options: { data: { type: "string" }, movielens: { type: "string" } } });
const d = args.movielens ? await readMovieLensRatings(args.movielens)
  : await loadTrainingData(args.data!).then((t) => ({ ratings: t.ratings, nUsers: t.userIds.length, nItems: t.movieIds.length }));
const { train, test } = foldSplit(d.ratings, assignFolds(d.ratings.length, 5, 42), 0);
const byCount = popularity(train, d.nItems);

const sgd = await trainScorer({ train, nUsers: d.nUsers, nItems: d.nItems }, "sgd", ENGINE_DEFAULTS.sgd, { threads: 1 });
// The prior is scorerRanking's popularityPrior: beta * ln(1 + training ratings of the movie) on every score.
const rankers: Array<[string, Scorer, number]> = [
  ["popularity", byCount, 0], ["sgd defaults", sgd, 0],
  ...[0.1, 0.3, 1, 3].map((beta): [string, Scorer, number] => [`sgd + ${beta} ln(1 + count)`, sgd, beta]),
];
console.log(`${d.ratings.length} ratings, ${d.nUsers} users x ${d.nItems} movies; fold 0 of 5 (seed 42) held out`);
console.log(concentration(test, byCount.serving().factors.itemBias));
console.log("| ranker | nDCG@20 | recall@20 | coverage |\n| --- | --- | --- | --- |");
for (const [name, scorer, popularityPrior] of rankers) {
  const r = scorerRanking(scorer, train, test, d.nUsers, d.nItems, { topN: 20, relevantAt: 4, popularityPrior });
  console.log(`| ${name} | ${r.ndcg.toFixed(4)} | ${r.recall.toFixed(4)} | ${(100 * r.coverage).toFixed(1)}% |`);
}

/** Share of the relevant (>= 4) held-out ratings that fall on the 5% most-rated movies of the training part. */
function concentration(test: RatingSet, count: Float32Array): string {
  const top = Math.max(1, Math.round(count.length * 0.05));
  const cut = [...count].sort((a, b) => b - a)[top - 1]!;
  let relevant = 0, onTop = 0;
  for (let r = 0; r < test.length; r++) {
    if (test.values[r]! < 4) continue;
    relevant++;
    if (count[test.items[r]!]! >= cut) onTop++;
  }
  return `${(100 * onTop / relevant).toFixed(0)}% of the ${relevant} relevant held-out ratings fall on the 5% most-rated movies (${top} movies, >= ${cut} training ratings each)`;
}
