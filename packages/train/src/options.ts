import { z } from "zod";
import { ENGINE_NAMES, type EngineName, type EngineParams } from "./engine.ts";
import type { SplitMode } from "./split.ts";

/**
 * Defaults, per engine. SGD starts from Surprise's SVD (100 factors, 20 epochs, init std 0.1)
 * with lr 0.015 / reg 0.1 instead of 0.005 / 0.02: on MovieLens-shaped data Surprise's values
 * overfit (train RMSE 0.67 vs held-out 0.92) and do not converge in 20 epochs; reg 0.1 keeps
 * the gap small and lr 0.015 converges in the 20 epochs (grid in the README). Heavier
 * regularisation is the robust side for sparse data: it shrinks towards the biases model.
 * tfjs uses Adam on 256-rating minibatches (enough steps for the biases to converge on sparse
 * data) and reg 0.2: Adam's per-parameter steps move rarely rated rows as fast as popular ones,
 * so it overfits sparse data sooner than SGD.
 */
export const ENGINE_DEFAULTS: Record<EngineName, EngineParams> = {
  sgd: { factors: 100, epochs: 20, lr: 0.015, reg: 0.1, initStd: 0.1, seed: 42, batchSize: 1 },
  tfjs: { factors: 100, epochs: 10, lr: 0.005, reg: 0.2, initStd: 0.1, seed: 42, batchSize: 256 },
  // knn: epochs/lr/reg fit its biases-only baseline (factors 0); neighbours and shrinkage as
  // Surprise's KNNBaseline (k 40, shrinkage 100). blend: MF and SVD++ members take the sgd
  // values, the kNN member the knn ones.
  knn: { factors: 0, epochs: 20, lr: 0.015, reg: 0.1, initStd: 0.1, seed: 42, batchSize: 1, neighbours: 40, shrinkage: 100 },
  blend: { factors: 100, epochs: 20, lr: 0.015, reg: 0.1, initStd: 0.1, seed: 42, batchSize: 1, neighbours: 40, shrinkage: 100 },
};

export const GATE_DEFAULTS = { metric: "rmse", threshold: 1.0 } as const;
export const SPLIT_DEFAULTS: { mode: SplitMode; fraction: number } = { mode: "random", fraction: 0.2 };

/** The model's hyper-parameters, each optional (the engine's default fills it); params.yaml shares them. */
export const MODEL_OPTIONS = {
  factors: z.number().int().min(1).max(1000).optional(),
  epochs: z.number().int().min(1).max(10_000).optional(),
  lr: z.number().positive().max(10).optional(),
  reg: z.number().min(0).max(100).optional(),
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
