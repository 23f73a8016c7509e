import { createRng } from "@recsys/core";
import { ENGINE_DEFAULTS, type EngineName, type RatingSet } from "@recsys/train";
import type { FoldJob, FoldResult } from "./fold-job.ts";
import { assignFolds } from "./folds.ts";
import { createFoldPool } from "./pool.ts";
import { DEFAULT_SPACES, drawConfig, rungEpochs, type Drawn, type Space } from "./space.ts";

export interface TuneOptions {
  engine: EngineName;
  folds: number;
  /** Wall-clock budget: no fold job starts after it is spent (running ones finish). */
  budgetSeconds: number;
  /** Configurations drawn in all; successive halving runs them in brackets of 2^(rungs - 1). */
  trials: number;
  seed: number;
  space?: Space;
  /** Worker threads running folds side by side (default 2, the target machine's cores). */
  workers?: number;
  /** Milliseconds; injected by tests so the budget is checked by count, not by the machine's speed. */
  clock?: () => number;
}

/** One configuration measured at one rung: the row of the trials table. */
export interface Trial {
  id: number;
  bracket: number;
  config: Drawn;
  epochs: number;
  foldRmse: number[];
  meanRmse: number;
  /** Standard deviation of the fold RMSEs. */
  spread: number;
  /** Summed training + scoring time of its folds. */
  seconds: number;
}

export interface TuneResult {
  engine: EngineName;
  folds: number;
  seed: number;
  trials: Trial[];
  best: Trial | null;
  rungs: number[];
  /** Configurations (with their rung) dropped unfinished because the budget was spent. */
  cutByBudget: number;
  /** Fold jobs started (each trains and scores one fold once). */
  foldJobs: number;
  seconds: number;
}

export interface TuneHooks {
  onTrial?: (t: Trial, doneJobs: number) => void;
}

/**
 * Random search with successive halving (Jamieson & Talwalkar 2016; one Hyperband bracket
 * shape, repeated): each bracket draws 2^(R-1) configurations from the space, measures them by
 * seeded k-fold CV at the first rung's epochs, keeps the better half for twice the epochs, and
 * so on up to the last rung. Folds run on a pool of worker threads. Configurations are drawn
 * from the seed alone, so the same seed gives the same trials whatever the budget cuts.
 *
 *     const result = await tune(ratings, nUsers, nItems, { engine: "sgd", folds: 5, budgetSeconds: 300, trials: 32, seed: 42 });
 */
export async function tune(ratings: RatingSet, nUsers: number, nItems: number, o: TuneOptions, hooks: TuneHooks = {}): Promise<TuneResult> {
  const clock = o.clock ?? (() => performance.now());
  const started = clock(), deadline = started + o.budgetSeconds * 1000;
  const space = o.space ?? DEFAULT_SPACES[o.engine];
  const rungs = rungEpochs(space, ENGINE_DEFAULTS[o.engine].epochs);
  const bracketSize = 2 ** (rungs.length - 1);
  const rng = createRng(o.seed).fork("tune-space");
  const configs = Array.from({ length: o.trials }, () => drawConfig(space, rng));
  const foldOf = assignFolds(ratings.length, o.folds, o.seed);
  const pool = createFoldPool(o.workers ?? 2, ratings, nUsers, nItems, foldOf);
  const trials: Trial[] = [];
  let cutByBudget = 0, doneJobs = 0, foldJobs = 0;
  // A job that would start after the deadline is skipped; its trial is then incomplete and dropped.
  const runJob = (job: FoldJob): Promise<FoldResult | null> => {
    if (clock() >= deadline) return Promise.resolve(null);
    foldJobs++;
    return pool.run(job).then((r) => { doneJobs++; return r; });
  };
  try {
    for (let b = 0, first = 0; first < configs.length; b++, first += bracketSize) {
      let alive = configs.slice(first, first + bracketSize).map((config, j) => ({ id: first + j, config }));
      for (let r = 0; r < rungs.length && alive.length > 0; r++) {
        const epochs = rungs[r]!;
        const measured = await Promise.all(alive.map(async ({ id, config }) => {
          const folds = await Promise.all(Array.from({ length: o.folds }, (_, fold) => runJob({ engine: o.engine, config, epochs, seed: o.seed, fold })));
          if (folds.some((f) => f === null)) { cutByBudget++; return null; }
          const trial = summarise(id, b, config, epochs, folds as FoldResult[]);
          trials.push(trial);
          hooks.onTrial?.(trial, doneJobs);
          return trial;
        }));
        const done = measured.filter((t): t is Trial => t !== null).sort(byRmse);
        // Successive halving: the better half goes on to twice the epochs.
        alive = done.slice(0, Math.ceil(done.length / 2)).map((t) => ({ id: t.id, config: t.config }));
      }
    }
  } finally {
    await pool.close();
  }
  trials.sort((a, b) => a.id - b.id || a.epochs - b.epochs);
  const best = trials.length ? [...trials].sort(byRmse)[0]! : null;
  return { engine: o.engine, folds: o.folds, seed: o.seed, trials, best, rungs, cutByBudget, foldJobs, seconds: (clock() - started) / 1000 };
}

function byRmse(a: Trial, b: Trial): number {
  return a.meanRmse - b.meanRmse || a.id - b.id || b.epochs - a.epochs;
}

function summarise(id: number, bracket: number, config: Drawn, epochs: number, folds: FoldResult[]): Trial {
  const foldRmse = folds.map((f) => f.rmse);
  const meanRmse = foldRmse.reduce((s, x) => s + x, 0) / foldRmse.length;
  const spread = Math.sqrt(foldRmse.reduce((s, x) => s + (x - meanRmse) ** 2, 0) / foldRmse.length);
  return { id, bracket, config, epochs, foldRmse, meanRmse, spread, seconds: folds.reduce((s, f) => s + f.seconds, 0) };
}
