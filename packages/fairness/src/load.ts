import { loadRecModel, type RecModel } from "@recsys/artifact";
import { loadRatingsAgainst, loadTrainingData, splitRatings, UNKNOWN, type RatingSet, type SplitMode, type TrainingData } from "@recsys/train";
import { badInput } from "./errors.ts";
import { unmaskHeldOut } from "./quality.ts";

export interface FairnessInputs {
  /** The model as ranking metrics must see it (held-out movies not masked as seen). */
  model: RecModel;
  /** The model as the API serves it (every movie of --data masked as seen). */
  served: RecModel;
  data: TrainingData;
  /** Held-out ratings in the model's row space (UNKNOWN for users or movies it lacks). */
  heldOut: RatingSet;
  heldOutSource: string;
  /** Ratings each user trained on (their profile size), by external user id. */
  profile: Map<number, number>;
}

/**
 * Loads what the report needs. With `holdoutDir`, its ratings are the held-out set and all of
 * --data was training. Without it, the model's own split of --data is reproduced from the
 * artifact's hyper-parameters (split mode, fraction, seed), which needs the very dataset it was
 * trained on (same dataHash).
 */
export async function loadFairnessInputs(modelDir: string, dataDir: string, holdoutDir?: string): Promise<FairnessInputs> {
  const model = await loadRecModel(modelDir);
  const data = await loadTrainingData(dataDir);
  const modelIndex = {
    users: new Map(model.meta.userIds.map((id, u) => [id, u])),
    movies: new Map(model.meta.movieIds.map((id, i) => [id, i])),
  };
  if (holdoutDir) {
    const heldOut = await loadRatingsAgainst(holdoutDir, modelIndex.users, modelIndex.movies);
    if (heldOut.length === 0) throw badInput(`--holdout ${holdoutDir}: no ratings to evaluate (pass a dataset with ratings)`);
    return { model, served: model, data, heldOut, heldOutSource: `--holdout ${holdoutDir}`, profile: countByUser(data.ratings, data.userIds) };
  }
  const hp = model.meta.hyperParams;
  if (model.meta.dataHash !== data.manifest.dataHash) {
    throw badInput(`--data ${dataDir} is not the dataset model ${model.meta.modelHash.slice(0, 12)} was trained on (dataHash differs): pass that dataset, or held-out ratings with --holdout DIR`);
  }
  if (hp.split !== "random" && hp.split !== "time") {
    throw badInput(`model ${model.meta.modelHash.slice(0, 12)} was trained with a separate hold-out set: pass it with --holdout DIR`);
  }
  const { train, test } = splitRatings(data.ratings, data.userIds.length, { mode: hp.split as SplitMode, fraction: Number(hp.holdoutFraction), seed: Number(hp.seed) });
  // Same dataset, so the dataset's rows are the model's rows; the held-out set maps through ids to be safe.
  const heldOut = remap(test, data, modelIndex);
  return { model: unmaskHeldOut(model, heldOut), served: model, data, heldOut, heldOutSource: `the model's ${hp.split} split of --data (${hp.holdoutFraction} held out, seed ${hp.seed})`, profile: countByUser(train, data.userIds) };
}

function countByUser(s: RatingSet, userIds: readonly number[]): Map<number, number> {
  const out = new Map<number, number>();
  for (let r = 0; r < s.length; r++) {
    const id = userIds[s.users[r]!]!;
    out.set(id, (out.get(id) ?? 0) + 1);
  }
  return out;
}

function remap(s: RatingSet, data: TrainingData, index: { users: Map<number, number>; movies: Map<string, number> }): RatingSet {
  const users = new Uint32Array(s.length), items = new Uint32Array(s.length);
  for (let r = 0; r < s.length; r++) {
    users[r] = index.users.get(data.userIds[s.users[r]!]!) ?? UNKNOWN;
    items[r] = index.movies.get(data.movieIds[s.items[r]!]!) ?? UNKNOWN;
  }
  return { ...s, users, items };
}
