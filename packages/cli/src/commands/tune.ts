import { z } from "zod";
import { createProgress } from "@recsys/core";
import { ENGINE_NAMES, loadTrainingData } from "@recsys/train";
import { readSpaceFile, trialsTable, tune, writeBestParams } from "@recsys/tune";
import { defineCommand } from "../command.ts";
import { FORCE_FLAG, FORCE_HELP, forceFlag, intFlag, noPositionals, numberFlag, seedFlag } from "../flags.ts";

export default defineCommand({
  name: "tune",
  summary: "tune hyper-parameters: seeded k-fold CV, random search with successive halving, best params to params.yaml",
  help: `--data DIR [--engine sgd|tfjs|knn|blend] [--folds 5] [--budget SECONDS] [--trials N]
       [--space FILE] [--out params.yaml] [--force] [--workers 2] [--seed S] [--json]

Cross-validates configurations drawn from a search space on DIR's ratings (seeded k-fold split by
rating) with successive halving on epochs: each bracket measures 2^(rungs-1) configurations at the
fewest epochs, keeps the better half for twice the epochs, up to the most. Folds run on worker
threads. Prints the trials (params, mean RMSE, spread across folds, epochs, seconds) and writes the
best to --out in the params.yaml layout that 'recsys train --params' reads.
  --data DIR        canonical dataset (from 'recsys ingest')
  --engine NAME     engine to tune (default sgd); its default space is in packages/tune/README.md
  --folds K         cross-validation folds (default 5)
  --budget SECONDS  no fold starts after this much time (default 300); running folds finish
  --trials N        configurations drawn in all (default 32)
  --space FILE      YAML search space, e.g. {lr: {min: 0.005, max: 0.02, log: true}, epochs: {min: 5, max: 40}}
  --out FILE        where the best params go (default params.yaml); kept gate: and serve: sections
${FORCE_HELP}
  --workers N       worker threads for the folds (default 2)
  --seed S          seeds the folds, the draws and training (default 42): same seed, same trials`,
  exits: [],
  flags: {
    data: { type: "string" }, engine: { type: "string" }, folds: { type: "string" }, budget: { type: "string" }, trials: { type: "string" },
    space: { type: "string" }, out: { type: "string" }, workers: { type: "string" }, seed: { type: "string" }, ...FORCE_FLAG,
  },
  schema: z.object({
    data: z.string({ error: "--data DIR is required" }).min(1),
    engine: z.enum(ENGINE_NAMES).default("sgd"),
    folds: intFlag(2, 20).default(5),
    budget: numberFlag(0.001, 7 * 24 * 3600).default(300),
    trials: intFlag(1, 10_000).default(32),
    space: z.string().min(1).optional(),
    out: z.string().min(1).default("params.yaml"),
    workers: intFlag(1, 64).default(2),
    seed: seedFlag,
    force: forceFlag,
    _: noPositionals,
  }),
  async run(o, io) {
    const space = o.space ? await readSpaceFile(o.space) : undefined;
    const data = await loadTrainingData(o.data);
    const progress = createProgress();
    const result = await tune(data.ratings, data.userIds.length, data.movieIds.length, {
      engine: o.engine, folds: o.folds, budgetSeconds: o.budget, trials: o.trials, seed: o.seed, space, workers: o.workers,
    }, {
      onTrial: (t, jobs) => progress.update(`${jobs} folds done; trial ${t.id} at ${t.epochs} epochs: RMSE ${t.meanRmse.toFixed(4)}`),
    }).finally(() => progress.done());
    if (!result.best) {
      return { summary: { ...result, out: null }, text: `no trial finished within --budget ${o.budget} s; ${o.out} not written (raise --budget)`, exitCode: 2 };
    }
    const params = await writeBestParams(o.out, result, { force: o.force, inputs: [o.data, o.space].filter((p): p is string => p !== undefined) });
    const b = result.best;
    const text = `${trialsTable(result)}\n`
      + `best: trial ${b.id}, ${o.folds}-fold CV RMSE ${b.meanRmse.toFixed(4)} +- ${b.spread.toFixed(4)}; `
      + `${result.trials.length} trials, ${result.foldJobs} fold fits, ${result.cutByBudget} cut by the budget, ${result.seconds.toFixed(1)} s; wrote ${o.out}`;
    return { summary: { ...result, out: o.out, params }, text };
  },
});
