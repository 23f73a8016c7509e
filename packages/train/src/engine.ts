import type { FactorModel } from "./factors.ts";

/**
 * sgd and tfjs: biased MF; knn: item-item kNN on baseline residuals (knn.ts); blend: stacked MF,
 * SVD++, kNN and I-AutoRec (blend.ts); autorec: I-AutoRec, an item-based autoencoder served as biased MF (autorec.ts).
 */
export const ENGINE_NAMES = ["sgd", "tfjs", "knn", "blend", "autorec"] as const;
export type EngineName = (typeof ENGINE_NAMES)[number];

/** Hyper-parameters every engine understands (see DEFAULTS in options.ts for the values and why). */
export interface EngineParams {
  factors: number;
  epochs: number;
  lr: number;
  reg: number;
  initStd: number;
  seed: number;
  /** Ratings per optimiser step (tfjs), movies per step (autorec); SGD updates per rating. */
  batchSize: number;
  /** knn and blend only: neighbours per prediction (k of KNNBaseline). */
  neighbours?: number;
  /** knn and blend only: Pearson shrinkage, sim * (n - 1) / (n - 1 + shrinkage) over n common raters. */
  shrinkage?: number;
}

export interface EngineHooks {
  /** Called after each epoch with the running training RMSE of that epoch and the model so far. */
  onEpoch?: (epoch: number, trainRmse: number, model: FactorModel) => void;
}
