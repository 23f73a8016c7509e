import type { FactorModel } from "./factors.ts";
import type { RatingSet } from "./ratings.ts";
import type { EngineHooks, EngineName, EngineParams } from "./engine.ts";
import { availableParallelism } from "node:os";
import { InputError, type RatingScale } from "@recsys/core";
import { trainSgd } from "./sgd.ts";
import { trainSvdpp, type ImplicitItems } from "./svdpp.ts";
import { trainTfjs } from "./tfjs-engine.ts";
import { trainAutoRec } from "./autorec.ts";
import { loadTf } from "./tf-backend.ts";

export interface TrainModelInput {
  train: RatingSet;
  nUsers: number;
  nItems: number;
  /** Each user's watched-or-rated movies: given, the sgd engine trains SVD++ (see svdpp.ts). */
  implicit?: ImplicitItems;
  /** The dataset's rating scale, for engines that measure clipped predictions as they train (tfjs); default 1..5. */
  scale?: RatingScale;
}

export interface TrainModelHooks extends EngineHooks {
  /** One-line notices (e.g. the TensorFlow.js backend in use). */
  log?: (line: string) => void;
  /**
   * Threads for the sgd engine (1 or 2; the result is the same bytes either way). Default: 2 when
   * the machine has 2 cores and there are at least PARALLEL_MIN_RATINGS ratings, else 1.
   */
  threads?: number;
}

/** Below this, starting a worker and copying the ratings to shared memory costs more than it saves. */
export const PARALLEL_MIN_RATINGS = 200_000;

/**
 * Trains biased MF with the chosen engine on `train` (rows index the id maps, nUsers x nItems).
 * Users and movies without a training rating (watch-only, or all ratings held out) keep zero
 * factors and bias, so they predict from what is known instead of from random initial vectors.
 *
 *     const model = await trainModel({ train, nUsers, nItems }, "sgd", engineParams(options));
 */
export async function trainModel(input: TrainModelInput, engine: EngineName, params: EngineParams, hooks: TrainModelHooks = {}): Promise<FactorModel> {
  const { train, nUsers, nItems, implicit, scale } = input;
  if (engine === "knn" || engine === "blend") throw new InputError("RECSYS_USAGE", `engine ${engine} is trained by trainScorer (scorer.ts), not trainModel (it has no plain factor form)`);
  if (implicit && engine !== "sgd") throw new InputError("RECSYS_USAGE", `the implicit watch signal (SVD++) is implemented by the sgd engine only, not ${engine}`);
  const model = engine === "tfjs"
    ? await trainTfjs(await loadTf(hooks.log ?? (() => {})), train, nUsers, nItems, params, hooks, scale)
    : engine === "autorec" ? await trainAutoRec(train, nUsers, nItems, params, hooks)
    : implicit ? await trainSvdpp(train, implicit, nUsers, nItems, params, hooks) : await trainSgd(train, nUsers, nItems, params, hooks, hooks.threads ?? (train.length >= PARALLEL_MIN_RATINGS ? Math.min(2, availableParallelism()) : 1));
  zeroUnrated(model, train);
  return model;
}

function zeroUnrated(m: FactorModel, train: RatingSet): void {
  const userRated = new Uint8Array(m.nUsers), itemRated = new Uint8Array(m.nItems);
  for (let r = 0; r < train.length; r++) { userRated[train.users[r]!] = 1; itemRated[train.items[r]!] = 1; }
  for (let u = 0; u < m.nUsers; u++) if (!userRated[u]) { m.userBias[u] = 0; m.userFactors.fill(0, u * m.k, (u + 1) * m.k); }
  for (let i = 0; i < m.nItems; i++) if (!itemRated[i]) { m.itemBias[i] = 0; m.itemFactors.fill(0, i * m.k, (i + 1) * m.k); }
}
