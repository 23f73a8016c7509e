import type { FactorModel } from "./factors.ts";

export type EngineName = "sgd" | "tfjs";

/** Hyper-parameters every engine understands (see DEFAULTS in options.ts for the values and why). */
export interface EngineParams {
  factors: number;
  epochs: number;
  lr: number;
  reg: number;
  initStd: number;
  seed: number;
  /** Ratings per optimiser step (tfjs only; SGD updates per rating). */
  batchSize: number;
}

export interface EngineHooks {
  /** Called after each epoch with the running training RMSE of that epoch and the model so far. */
  onEpoch?: (epoch: number, trainRmse: number, model: FactorModel) => void;
}
