/**
 * Model quality by seeded 5-fold CV (split by rating, @recsys/tune's folds): per model, mean RMSE
 * and its spread across folds, mean fit time per fold, and top-20 ranking quality (nDCG@20,
 * recall@20 with relevant = rated >= 4 in the test fold, over unseen movies, as the API ranks) beside
 * a popularity list. Tuned plain biased MF is tuned in the same run (recsys tune's search, on the
 * same folds: an optimistic anchor, which only makes beating it harder).
 */
import {
  engineParams, implicitItems, scorerRanking, ratingRange, scorerErrors, trainScorer, TrainOptionsSchema,
  type RatingSet, type Scorer, type TrainOptions,
} from "@recsys/train";
import { assignFolds, foldSplit, tune } from "@recsys/tune";

export interface ModelRow { data: string; model: string; rmse: number | null; spread: number | null; fitSeconds: number; ndcg: number; recall: number }
export interface CvData { name: string; ratings: RatingSet; nUsers: number; nItems: number }

const NO_WATCHES = { length: 0, users: new Uint32Array(0), items: new Uint32Array(0) };

/** name, model, and the popularity prior its ranking uses (the API's --popularity-prior; 0 when absent). */
type ModelSpec = [string, TrainOptions | "popularity", number?];
const MODELS: ModelSpec[] = [
  ["popularity (top-20 anchor)", "popularity"],
  ["biases only", { engine: "sgd", factors: 1, epochs: 20, reg: 0.1, initStd: 0 }],
  ["sgd (defaults)", { engine: "sgd" }],
  ["sgd (defaults), popularity prior 1", { engine: "sgd" }, 1],
  ["svd++ (rated items as N(u))", { engine: "sgd", implicit: "svdpp" }],
  ["knn (defaults)", { engine: "knn" }],
  ["blend: mf + svd++ + knn + autorec (defaults)", { engine: "blend" }],
  ["autorec (defaults)", { engine: "autorec" }],
  ["autorec (defaults), popularity prior 1", { engine: "autorec" }, 1],
];

/** `only`: model names starting with one of these (e.g. "knn", "sgd tuned"); all when empty. */
export async function crossValidate(d: CvData, tuneBudgetSeconds: number, log: (line: string) => void, only: string[] = []): Promise<ModelRow[]> {
  const folds = 5, seed = 42;
  const foldOf = assignFolds(d.ratings.length, folds, seed);
  const wanted = (name: string) => only.length === 0 || only.some((prefix) => name.startsWith(prefix));
  const models = MODELS.filter(([name]) => wanted(name));
  if (wanted("sgd tuned")) models.push(await tunedSgd(d, tuneBudgetSeconds, log));
  return runModels(d, models, foldOf, folds, log);
}

async function tunedSgd(d: CvData, tuneBudgetSeconds: number, log: (line: string) => void): Promise<[string, TrainOptions]> {
  const tuned = await tune([d], { engine: "sgd", folds: 5, budgetSeconds: tuneBudgetSeconds, trials: 64, seed: 42 });
  log(`${d.name}: tuned sgd ${JSON.stringify(tuned.best?.config)} at ${tuned.best?.epochs} epochs, ${tuned.trials.length} trials in ${tuned.seconds.toFixed(0)} s`);
  return [`sgd tuned (${tuned.trials.length} trials, ${tuneBudgetSeconds} s)`, { engine: "sgd", ...tuned.best!.config, epochs: tuned.best!.epochs }];
}

async function runModels(d: CvData, models: ModelSpec[], foldOf: Uint8Array, folds: number, log: (line: string) => void): Promise<ModelRow[]> {
  const range = ratingRange(d.ratings);
  const rows: ModelRow[] = [];
  for (const [name, options, popularityPrior = 0] of models) {
    const rmse: number[] = [], ndcg: number[] = [], recall: number[] = [];
    let fit = 0;
    for (let fold = 0; fold < folds; fold++) {
      const { train, test } = foldSplit(d.ratings, foldOf, fold);
      const t = performance.now();
      const scorer = options === "popularity" ? popularity(train, d.nItems) : await fitScorer(train, d, options);
      fit += (performance.now() - t) / 1000;
      if (options !== "popularity") rmse.push(scorerErrors(scorer, test, range).rmse);
      const report = scorerRanking(scorer, train, test, d.nUsers, d.nItems, { topN: 20, relevantAt: 4, popularityPrior });
      ndcg.push(report.ndcg); recall.push(report.recall);
    }
    const mean = (x: number[]) => x.reduce((s, v) => s + v, 0) / x.length;
    const m = rmse.length ? mean(rmse) : null;
    rows.push({
      data: d.name, model: name, rmse: m, spread: m === null ? null : Math.sqrt(mean(rmse.map((x) => (x - m) ** 2))),
      fitSeconds: fit / folds, ndcg: mean(ndcg), recall: mean(recall),
    });
    log(`${d.name}: ${name} done (${m?.toFixed(4) ?? "-"})`);
  }
  return rows;
}

async function fitScorer(train: RatingSet, d: CvData, options: TrainOptions): Promise<Scorer> {
  const o = TrainOptionsSchema.parse(options);
  // N(u) = the user's rated items in the training part (MovieLens has no watches).
  const implicit = o.implicit === "svdpp" ? implicitItems(train, NO_WATCHES, { ...train, length: 0 }, d.nUsers, d.nItems) : undefined;
  return trainScorer({ train, nUsers: d.nUsers, nItems: d.nItems, implicit }, o.engine, engineParams(o), { threads: 1 });
}

/** Ranks by training-rating count: what a cold-start list shows. Not a rating predictor (no RMSE). */
export function popularity(train: RatingSet, nItems: number): Scorer {
  const count = new Float32Array(nItems);
  for (let r = 0; r < train.length; r++) count[train.items[r]!]!++;
  const factors = { k: 0, nUsers: 0, nItems, globalMean: 0, userBias: new Float32Array(0), itemBias: count, userFactors: new Float32Array(0), itemFactors: new Float32Array(0) };
  return { raw: (_u, i) => count[i]!, serving: () => ({ factors }) };
}

export function modelTable(rows: ModelRow[]): string {
  const head = ["data", "model", "5-fold RMSE", "spread", "fit s/fold", "nDCG@20", "recall@20"];
  const body = rows.map((r) => [r.data, r.model, r.rmse?.toFixed(4) ?? "-", r.spread?.toFixed(4) ?? "-", r.fitSeconds.toFixed(1), r.ndcg.toFixed(4), r.recall.toFixed(4)]);
  return ["| " + head.join(" | ") + " |", "| " + head.map(() => "---").join(" | ") + " |", ...body.map((b) => "| " + b.join(" | ") + " |")].join("\n");
}
