import { z } from "zod";
import { ENGINE_NAMES, type EngineName, type EngineParams } from "./engine.ts";
import type { SplitMode } from "./split.ts";

/**
 * Defaults, per engine. SGD: the choice of `recsys tune --data WORLD --data ML_LATEST_SMALL` (seeded
 * 5-fold CV on the default simulated world and ml-latest-small together, 104 trials in 900 s;
 * numbers in the README): 200 factors, lr 0.026, reg 0.066, 20 epochs. It ties the lowest mean RMSE
 * (within a standard error on both data sets) and ranks best among the tied. Surprise's SVD values
 * (lr 0.005, reg 0.02) overfit MovieLens-shaped data and do not converge in 20 epochs.
 * tfjs (Adam on 256-rating minibatches): chosen the same way (30 trials in 851 s): 50 factors,
 * lr 0.004, reg 0.1, 16 epochs, mean CV RMSE 0.8447 against 0.8757 for the values before
 * (100 factors, lr 0.005, reg 0.2, 10 epochs, picked on the old sparse simulator data).
 */
export const ENGINE_DEFAULTS: Record<EngineName, EngineParams> = {
  sgd: { factors: 200, epochs: 20, lr: 0.026, reg: 0.066, initStd: 0.1, seed: 42, batchSize: 1 },
  tfjs: { factors: 50, epochs: 16, lr: 0.004, reg: 0.1, initStd: 0.1, seed: 42, batchSize: 256 },
  // knn: epochs/lr/reg fit its biases-only baseline (factors 0). neighbours 20, shrinkage 100 and
  // the baseline's reg 0.022: the choice of `recsys tune --engine knn` on the same two data sets
  // (README). blend: its own values, not re-tuned (Surprise's KNNBaseline k 40 and the former sgd ones).
  knn: { factors: 0, epochs: 20, lr: 0.015, reg: 0.022, initStd: 0.1, seed: 42, batchSize: 1, neighbours: 20, shrinkage: 100 },
  // autorec: factors = hidden units, lr = Adam's step, reg = lambda, batchSize = movies a step. The
  // choice of `recsys tune --engine autorec` on the same two data sets (39 trials in 1211 s, README):
  // 100 units, lr 0.00087, lambda 70, 16 movies a step, 20 epochs; about 13 s a fold.
  autorec: { factors: 100, epochs: 20, lr: 0.00087, reg: 70, initStd: 0.03, seed: 42, batchSize: 16 },
  blend: { factors: 100, epochs: 20, lr: 0.015, reg: 0.1, initStd: 0.1, seed: 42, batchSize: 1, neighbours: 40, shrinkage: 100 },
};

export const GATE_DEFAULTS = { metric: "rmse", threshold: 1.0 } as const;
export const SPLIT_DEFAULTS: { mode: SplitMode; fraction: number } = { mode: "random", fraction: 0.2 };

/** The model's hyper-parameters, each optional (the engine's default fills it); params.yaml shares them. */
export const MODEL_OPTIONS = {
  factors: z.number().int().min(1).max(1000).optional(),
  epochs: z.number().int().min(1).max(10_000).optional(),
  lr: z.number().positive().max(10).optional(),
  reg: z.number().min(0).max(100_000).optional(), // autorec's lambda weighs a summed squared error: hundreds
  initStd: z.number().min(0).max(10).optional(),
  batchSize: z.number().int().min(1).max(1 << 20).optional(),
  neighbours: z.number().int().min(1).max(10_000).optional(),
  shrinkage: z.number().min(0).max(1e6).optional(),
};

/** Options of trainAndGate / trainModel; anything left out takes the engine's default. */
export const TrainOptionsSchema = z.object({
  engine: z.enum(ENGINE_NAMES).default("sgd"),
  ...MODEL_OPTIONS,
  seed: z.number().int().min(0).max(2 ** 32 - 1).default(42),
  split: z.enum(["random", "time"]).default(SPLIT_DEFAULTS.mode),
  holdoutFraction: z.number().gt(0).lt(1).default(SPLIT_DEFAULTS.fraction),
  gateRmse: z.number().positive().default(GATE_DEFAULTS.threshold),
  /** svdpp: use the watch signal as SVD++ implicit feedback (sgd engine); none: ratings only. */
  implicit: z.enum(["none", "svdpp"]).default("none"),
}).strict();
export type TrainOptions = z.input<typeof TrainOptionsSchema>;
export type ResolvedTrainOptions = z.output<typeof TrainOptionsSchema>;

/** The engine's parameters: its defaults overridden by what the options set. */
export function engineParams(o: ResolvedTrainOptions): EngineParams {
  const d = ENGINE_DEFAULTS[o.engine];
  return {
    factors: o.factors ?? d.factors, epochs: o.epochs ?? d.epochs, lr: o.lr ?? d.lr, reg: o.reg ?? d.reg,
    initStd: o.initStd ?? d.initStd, batchSize: o.batchSize ?? d.batchSize, seed: o.seed,
    // Only the engines that use them carry them, so an sgd artifact's hyperParams stay as they were.
    ...(d.neighbours === undefined ? {} : { neighbours: o.neighbours ?? d.neighbours, shrinkage: o.shrinkage ?? d.shrinkage }),
  };
}
