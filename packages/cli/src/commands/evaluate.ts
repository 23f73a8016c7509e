import { z } from "zod";
import { loadRecModel } from "@recsys/artifact";
import { evaluateModel } from "@recsys/train";
import { defineCommand } from "../command.ts";
import { intFlag, noPositionals, numberFlag } from "../flags.ts";

export default defineCommand({
  name: "evaluate",
  summary: "score a model on a dataset: RMSE, MAE, precision/recall/nDCG@20, catalogue coverage",
  help: `--model MODEL_DIR --data DIR [--top N] [--relevant-at R] [--popularity-prior W] [--json]

Predicts every rating in DIR (RMSE, MAE) and ranks movies for each known user as the API does
(movies seen in training excluded): precision, recall and nDCG at N, where relevant = rated
>= R in DIR, averaged over users with a relevant movie; coverage = distinct movies in all lists
over the catalogue.
  --model MODEL_DIR   artifact from 'recsys train' (gate-failed models are refused)
  --data DIR          canonical dataset whose ratings are scored (e.g. a later period)
  --top N             list length (default 20)
  --relevant-at R     relevance threshold in stars (default 4)
  --popularity-prior W
                      rank by score + W x ln(1 + popularity), as 'recsys serve --popularity-prior W'
                      serves (default 0: the model alone)`,
  exits: [],
  flags: { model: { type: "string" }, data: { type: "string" }, top: { type: "string" }, "relevant-at": { type: "string" }, "popularity-prior": { type: "string" } },
  schema: z.object({
    model: z.string({ error: "--model MODEL_DIR is required" }).min(1),
    data: z.string({ error: "--data DIR is required" }).min(1),
    top: intFlag(1, 1000).default(20),
    "relevant-at": numberFlag(1, 5).default(4),
    "popularity-prior": numberFlag(0, 10).default(0),
    _: noPositionals,
  }),
  async run(o) {
    const model = await loadRecModel(o.model);
    const r = await evaluateModel(model, o.data, { topN: o.top, relevantAt: o["relevant-at"], popularityPrior: o["popularity-prior"] });
    const n = r.topN, f = (x: number) => x.toFixed(4);
    const text = [
      `model ${model.meta.modelHash.slice(0, 12)} (${model.meta.engine}) on ${o.data}: ${r.ratings} ratings (${r.unknownRatings} with an unknown user or movie)`,
      `RMSE ${f(r.rmse)}  MAE ${f(r.mae)}`,
      `precision@${n} ${f(r.precision)}  recall@${n} ${f(r.recall)}  nDCG@${n} ${f(r.ndcg)}  coverage@${n} ${f(r.coverage)}  (${r.relevantUsers} of ${r.rankedUsers} users with a relevant movie, rating >= ${r.relevantAt}`
      + `${r.popularityPrior ? `; popularity prior ${r.popularityPrior}` : ""})`,
    ].join("\n");
    return { summary: { model: model.meta.modelHash, data: o.data, ...r }, text };
  },
});
