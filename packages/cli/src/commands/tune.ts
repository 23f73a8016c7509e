import { z } from "zod";
import { createProgress } from "@recsys/core";
import { ENGINE_NAMES, loadTrainingData } from "@recsys/train";
import { readSpaceFile, trialsTable, tune, writeBestParams } from "@recsys/tune";
import { defineCommand } from "../command.ts";
import { FORCE_FLAG, FORCE_HELP, forceFlag, intFlag, noPositionals, numberFlag, seedFlag } from "../flags.ts";

export default defineCommand({
  name: "tune",
  summary: "tune hyper-parameters: seeded k-fold CV, random search with successive halving, best params to params.yaml",
  help: `--data DIR [--data DIR2 ...] [--engine sgd|tfjs|knn|blend|autorec] [--folds 5] [--budget SECONDS] [--trials N]
       [--space FILE] [--out params.yaml] [--force] [--workers 2] [--rank-users 200] [--seed S] [--json]

Cross-validates configurations drawn from a search space on DIR's ratings (seeded k-fold split by
rating) with successive halving on epochs: each bracket measures 2^(rungs-1) configurations at the
fewest epochs, keeps the better half for twice the epochs, up to the most. Folds run on worker
threads. Prints the trials (params, mean RMSE, spread across folds, nDCG@20, epochs, seconds) and
writes the best to --out in the params.yaml layout that 'recsys train --params' reads. The best is
the lowest RMSE, except that among the trials whose RMSE ties with it (within one standard error
of its mean on every data set) the best top-20 ranking (nDCG@20) wins.
  --data DIR        canonical dataset (from 'recsys ingest'); repeat it to tune on several at once
                    (the objective is then the mean of their CV RMSEs)
  --engine NAME     engine to tune (default sgd); its default space is in packages/tune/README.md
  --folds K         cross-validation folds (default 5)
  --budget SECONDS  no fold starts after this much time (default 300); running folds finish
  --trials N        configurations drawn in all (default 32)
  --space FILE      YAML search space, e.g. {lr: {min: 0.005, max: 0.02, log: true}, epochs: {min: 5, max: 40}}
  --out FILE        where the best params go (default params.yaml); kept gate: and serve: sections
${FORCE_HELP}
  --workers N       worker threads for the folds (default 2)
  --rank-users N    users per data set whose top-20 list is scored in every fold (seeded sample,
                    default 200); 0 = RMSE only (no ranking tie-break)
  --seed S          seeds the folds, the draws and training (default 42): same seed, same trials`,
  exits: [],
  flags: {
    data: { type: "string", multiple: true }, engine: { type: "string" }, folds: { type: "string" }, budget: { type: "string" }, trials: { type: "string" },
    space: { type: "string" }, out: { type: "string" }, workers: { type: "string" }, "rank-users": { type: "string" }, seed: { type: "string" }, ...FORCE_FLAG,
  },
  schema: z.object({
    data: z.array(z.string().min(1), { error: "--data DIR is required" }).min(1, "--data DIR is required"),
    engine: z.enum(ENGINE_NAMES).default("sgd"),
    folds: intFlag(2, 20).default(5),
    budget: numberFlag(0.001, 7 * 24 * 3600).default(300),
    trials: intFlag(1, 10_000).default(32),
    space: z.string().min(1).optional(),
    out: z.string().min(1).default("params.yaml"),
    workers: intFlag(1, 64).default(2),
    "rank-users": intFlag(0, 1_000_000).default(200),
    seed: seedFlag,
    force: forceFlag,
    _: noPositionals,
  }),
  async run(o, io) {
    const space = o.space ? await readSpaceFile(o.space) : undefined;
    const sets = await Promise.all(o.data.map(async (dir) => {
      const d = await loadTrainingData(dir);
      return { name: dir, ratings: d.ratings, nUsers: d.userIds.length, nItems: d.movieIds.length };
    }));
    const progress = createProgress();
    const result = await tune(sets, {
      engine: o.engine, folds: o.folds, budgetSeconds: o.budget, trials: o.trials, seed: o.seed, space, workers: o.workers, rankUsers: o["rank-users"],
    }, {
      onTrial: (t, jobs) => progress.update(`${jobs} folds done; trial ${t.id} at ${t.epochs} epochs: RMSE ${t.meanRmse.toFixed(4)}`),
    }).finally(() => progress.done());
    if (!result.best) {
      return { summary: { ...result, out: null }, text: `no trial finished within --budget ${o.budget} s; ${o.out} not written (raise --budget)`, exitCode: 2 };
    }
    const params = await writeBestParams(o.out, result, { force: o.force, inputs: [...o.data, o.space].filter((p): p is string => p !== undefined) });
    const b = result.best, low = result.lowestRmse!;
    const ranking = b.ndcg === null ? "" : `, nDCG@20 ${b.ndcg.toFixed(4)}`;
    const why = b === low ? "" : ` (chosen for its ranking among ${result.tiedWithLowest} trials whose RMSE ties with the lowest, trial ${low.id}: ${low.meanRmse.toFixed(4)}, nDCG@20 ${low.ndcg!.toFixed(4)})`;
    const text = `${trialsTable(result)}\n`
      + `best: trial ${b.id}, ${o.folds}-fold CV RMSE ${b.meanRmse.toFixed(4)} +- ${b.spread.toFixed(4)}${ranking}${why}; `
      + `${result.trials.length} trials, ${result.foldJobs} fold fits, ${result.cutByBudget} cut by the budget, ${result.seconds.toFixed(1)} s; wrote ${o.out}`;
    return { summary: { ...result, out: o.out, params }, text };
  },
});
