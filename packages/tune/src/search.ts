import { createRng } from "@recsys/core";
import { ENGINE_DEFAULTS, type EngineName, type RatingSet } from "@recsys/train";
import type { FoldData, FoldJob, FoldResult } from "./fold-job.ts";
import { assignFolds } from "./folds.ts";
import { createFoldPool } from "./pool.ts";
import { DEFAULT_SPACES, drawConfig, rungEpochs, type Drawn, type Space } from "./space.ts";

/** One data set to cross-validate on; `name` labels its columns. */
export interface TuneData { name: string; ratings: RatingSet; nUsers: number; nItems: number }

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
  /** Users per data set whose top-20 list is scored in every fold (a seeded sample; default 200; 0 = RMSE only, no ranking tie-break). */
  rankUsers?: number;
  /** Milliseconds; injected by tests so the budget is checked by count, not by the machine's speed. */
  clock?: () => number;
}

/** A trial's figures on one data set. */
export interface DataScore {
  name: string;
  foldRmse: number[];
  meanRmse: number;
  /** Standard deviation of the fold RMSEs. */
  spread: number;
  /** Mean nDCG@20 / recall@20 over the folds (sampled users); null without ranking. */
  ndcg: number | null;
  recall: number | null;
}

/** One configuration measured at one rung: the row of the trials table. */
export interface Trial {
  id: number;
  bracket: number;
  config: Drawn;
  epochs: number;
  /** Every fold's RMSE, data set after data set. */
  foldRmse: number[];
  /** The objective: the mean over the data sets of each one's mean fold RMSE. */
  meanRmse: number;
  /** Root mean of the data sets' fold variances (the fold standard deviation with one data set). */
  spread: number;
  /** Mean over the data sets of their nDCG@20; null without ranking. */
  ndcg: number | null;
  perData: DataScore[];
  /** Summed training + scoring time of its folds. */
  seconds: number;
}

export interface TuneResult {
  engine: EngineName;
  folds: number;
  seed: number;
  data: string[];
  trials: Trial[];
  /** The choice: the best nDCG@20 among the trials whose RMSE ties with the lowest (see chooseBest). */
  best: Trial | null;
  /** The lowest mean RMSE, and how many trials (itself included) tie with it. */
  lowestRmse: Trial | null;
  tiedWithLowest: number;
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
 * so on up to the last rung. With several data sets the objective is the mean of their CV RMSEs
 * (each has its own folds). Folds run on a pool of worker threads. Configurations are drawn from
 * the seed alone, so the same seed gives the same trials whatever the budget cuts.
 *
 *     const result = await tune([{ name: "world", ratings, nUsers, nItems }], { engine: "sgd", folds: 5, budgetSeconds: 300, trials: 32, seed: 42 });
 */
export async function tune(sets: TuneData[], o: TuneOptions, hooks: TuneHooks = {}): Promise<TuneResult> {
  const clock = o.clock ?? (() => performance.now());
  const started = clock(), deadline = started + o.budgetSeconds * 1000;
  const space = o.space ?? DEFAULT_SPACES[o.engine];
  const rungs = rungEpochs(space, ENGINE_DEFAULTS[o.engine].epochs);
  const bracketSize = 2 ** (rungs.length - 1);
  const rng = createRng(o.seed).fork("tune-space");
  const configs = Array.from({ length: o.trials }, () => drawConfig(space, rng));
  const foldData: FoldData[] = sets.map((d) => ({
    ...d, foldOf: assignFolds(d.ratings.length, o.folds, o.seed), rankedUsers: sampleUsers(d.nUsers, o.rankUsers ?? 200, o.seed),
  }));
  const pool = createFoldPool(o.workers ?? 2, foldData);
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
          const perSet = await Promise.all(sets.map((_, data) => Promise.all(Array.from({ length: o.folds }, (_, fold) =>
            runJob({ engine: o.engine, config, epochs, seed: o.seed, data, fold })))));
          if (perSet.some((folds) => folds.some((f) => f === null))) { cutByBudget++; return null; }
          const trial = summarise(id, b, config, epochs, sets, perSet as FoldResult[][]);
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
  const { best, lowestRmse, tied } = chooseBest(trials);
  return {
    engine: o.engine, folds: o.folds, seed: o.seed, data: sets.map((d) => d.name), trials, best, lowestRmse, tiedWithLowest: tied.length,
    rungs, cutByBudget, foldJobs, seconds: (clock() - started) / 1000,
  };
}

/**
 * RMSE first, ranking when RMSE ties: the trials whose RMSE ties with the lowest (rmseTies) are
 * the candidates, and the one with the best nDCG@20 wins (the API serves top-20 lists, and on
 * MovieLens the RMSE-best models rank worst). Without ranking figures, the lowest RMSE wins.
 */
export function chooseBest(trials: Trial[]): { best: Trial | null; lowestRmse: Trial | null; tied: Trial[] } {
  if (trials.length === 0) return { best: null, lowestRmse: null, tied: [] };
  const lowestRmse = [...trials].sort(byRmse)[0]!;
  const tied = trials.filter((t) => t === lowestRmse || rmseTies(t, lowestRmse));
  const best = [...tied].sort((a, b) => (b.ndcg ?? -1) - (a.ndcg ?? -1) || byRmse(a, b))[0]!;
  return { best, lowestRmse, tied };
}

/**
 * Whether trial `t`'s RMSE ties with `lowest`'s: on every data set, its mean fold RMSE is at most
 * one standard error of `lowest`'s mean above it (sample deviation of the fold RMSEs / sqrt(folds)),
 * a difference smaller than the uncertainty of the figure itself. This is the one-standard-error
 * rule (Breiman et al. 1984; Hastie et al., Elements of Statistical Learning 7.10) with ranking as
 * the tie-break instead of simplicity. Per data set, so a trial much worse on one data set is never
 * a tie because it is better on another.
 */
export function rmseTies(t: Trial, lowest: Trial): boolean {
  return t.perData.every((d, j) => {
    const { foldRmse: base, meanRmse } = lowest.perData[j]!, n = base.length;
    const standardError = Math.sqrt(base.reduce((s, x) => s + (x - meanRmse) ** 2, 0) / Math.max(1, n - 1) / n);
    return d.meanRmse - meanRmse <= standardError;
  });
}

function byRmse(a: Trial, b: Trial): number {
  return a.meanRmse - b.meanRmse || a.id - b.id || b.epochs - a.epochs;
}

/** A seeded 0/1 mask of min(count, nUsers) users: the same users for every trial and fold, so ranking figures pair up. */
function sampleUsers(nUsers: number, count: number, seed: number): Uint8Array {
  const mask = new Uint8Array(nUsers);
  const order = Uint32Array.from({ length: nUsers }, (_, u) => u);
  const rng = createRng(seed).fork("rank-users");
  for (let j = 0; j < Math.min(count, nUsers); j++) {
    const s = j + rng.int(nUsers - j);
    const pick = order[s]!; order[s] = order[j]!; order[j] = pick;
    mask[pick] = 1;
  }
  return mask;
}

const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;

function summarise(id: number, bracket: number, config: Drawn, epochs: number, sets: TuneData[], perSet: FoldResult[][]): Trial {
  const perData: DataScore[] = perSet.map((folds, j) => {
    const foldRmse = folds.map((f) => f.rmse), meanRmse = mean(foldRmse);
    const ranked = folds.every((f) => f.ndcg !== null);
    return {
      name: sets[j]!.name, foldRmse, meanRmse, spread: Math.sqrt(mean(foldRmse.map((x) => (x - meanRmse) ** 2))),
      ndcg: ranked ? mean(folds.map((f) => f.ndcg!)) : null, recall: ranked ? mean(folds.map((f) => f.recall!)) : null,
    };
  });
  const ranked = perData.every((d) => d.ndcg !== null);
  return {
    id, bracket, config, epochs, foldRmse: perData.flatMap((d) => d.foldRmse), meanRmse: mean(perData.map((d) => d.meanRmse)),
    spread: Math.sqrt(mean(perData.map((d) => d.spread ** 2))), ndcg: ranked ? mean(perData.map((d) => d.ndcg!)) : null, perData,
    seconds: perSet.flat().reduce((s, f) => s + f.seconds, 0),
  };
}
