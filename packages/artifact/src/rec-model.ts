import type { OutputClaim } from "@recsys/core";
import { ArtifactError } from "./errors.ts";
import { loadArtifact, type LoadedArtifact } from "./read.ts";
import { writeModelArtifact, type ModelMetaInput } from "./write.ts";
import { clipToScale } from "@recsys/core";
import { modelRatingScale, type ModelMeta } from "./schema.ts";

/**
 * A trained recommender as the API uses it: biased matrix factorisation plus what serving
 * needs beside the factors (what each user has seen, popularity overall and per demographic
 * group, the group of every user with side information). Rows follow meta.userIds / meta.movieIds.
 */
export interface RecModel {
  meta: ModelMeta;
  nUsers: number;
  nItems: number;
  k: number;
  userFactors: Float32Array; // [nUsers, k]
  itemFactors: Float32Array; // [nItems, k]
  userBias: Float32Array; // [nUsers]
  itemBias: Float32Array; // [nItems]
  /** CSR of each user's rated or watched items: items of user u are seenItems[seenOffsets[u]..seenOffsets[u+1]). */
  seenOffsets: Uint32Array; // [nUsers + 1]
  seenItems: Uint32Array;
  /** Recency-weighted popularity per item (higher = more popular lately). */
  itemPopularity: Float32Array; // [nItems]
  /** Same per demographic group: row g follows meta.groups[g]. */
  groupPopularity: Float32Array; // [nGroups, nItems]
  /** Users with side information (sorted ids) and their group index into meta.groups (255 = none). */
  sideUserIds: Uint32Array;
  sideUserGroups: Uint8Array;
  /**
   * Optional, for models without a (full) factor form (kNN, a blend with kNN): a score added to the
   * factor score of every (user, item), row-major [nUsers, nItems]. 4 bytes per pair: 400 MB at
   * 10k users x 10k movies.
   */
  userItemScores?: Float32Array;
}

export type RecModelTensors = Omit<RecModel, "meta" | "nUsers" | "nItems" | "k">;

export const NO_GROUP = 255;

/** Writes a RecModel artifact; see writeModelArtifact. */
export async function writeRecModel(dir: string, info: ModelMetaInput, t: RecModelTensors, output: Omit<OutputClaim, "kind"> = {}): Promise<ModelMeta> {
  const nUsers = info.userIds.length, nItems = info.movieIds.length, k = info.factors;
  return writeModelArtifact(dir, info, {
    user_factors: { data: t.userFactors, shape: [nUsers, k] },
    item_factors: { data: t.itemFactors, shape: [nItems, k] },
    user_bias: { data: t.userBias, shape: [nUsers] },
    item_bias: { data: t.itemBias, shape: [nItems] },
    seen_offsets: { data: t.seenOffsets, shape: [nUsers + 1] },
    seen_items: { data: t.seenItems, shape: [t.seenItems.length] },
    item_popularity: { data: t.itemPopularity, shape: [nItems] },
    group_popularity: { data: t.groupPopularity, shape: [info.groups.length, nItems] },
    side_user_ids: { data: t.sideUserIds, shape: [t.sideUserIds.length] },
    side_user_groups: { data: t.sideUserGroups, shape: [t.sideUserGroups.length] },
    ...(t.userItemScores ? { user_item_scores: { data: t.userItemScores, shape: [nUsers, nItems] } } : {}),
  }, output);
}

/**
 * Loads and validates a RecModel: on top of loadArtifact's checks, every tensor must be there
 * with the shape the id maps imply, and the seen-item index must stay in range.
 *
 *     const model = await loadRecModel(process.env.MODEL_DIR!);
 */
export async function loadRecModel(dir: string, options: { allowGateFailed?: boolean } = {}): Promise<RecModel> {
  const artifact = await loadArtifact(dir, options);
  return toRecModel(artifact);
}

function toRecModel({ dir, meta, tensors }: LoadedArtifact): RecModel {
  const nUsers = meta.userIds.length, nItems = meta.movieIds.length, k = meta.factors;
  const need = <T extends Float32Array | Uint32Array | Uint8Array>(name: string, ctor: new (...a: never[]) => T, length: number | null): T => {
    const t = tensors[name];
    if (!(t instanceof ctor)) throw new ArtifactError(dir, `tensor ${name} is missing or has the wrong dtype`);
    if (length !== null && t.length !== length) throw new ArtifactError(dir, `tensor ${name} has ${t.length} values, expected ${length}`);
    return t;
  };
  const model: RecModel = {
    meta, nUsers, nItems, k,
    userFactors: need("user_factors", Float32Array, nUsers * k),
    itemFactors: need("item_factors", Float32Array, nItems * k),
    userBias: need("user_bias", Float32Array, nUsers),
    itemBias: need("item_bias", Float32Array, nItems),
    seenOffsets: need("seen_offsets", Uint32Array, nUsers + 1),
    seenItems: need("seen_items", Uint32Array, null),
    itemPopularity: need("item_popularity", Float32Array, nItems),
    groupPopularity: need("group_popularity", Float32Array, meta.groups.length * nItems),
    sideUserIds: need("side_user_ids", Uint32Array, null),
    sideUserGroups: need("side_user_groups", Uint8Array, null),
  };
  if (tensors.user_item_scores !== undefined) model.userItemScores = need("user_item_scores", Float32Array, nUsers * nItems);
  if (model.sideUserIds.length !== model.sideUserGroups.length) throw new ArtifactError(dir, "side_user_ids and side_user_groups differ in length");
  if (model.seenOffsets[nUsers] !== model.seenItems.length) throw new ArtifactError(dir, "seen_offsets does not end at the length of seen_items");
  for (let i = 0; i < model.seenItems.length; i++) {
    if (model.seenItems[i]! >= nItems) throw new ArtifactError(dir, `seen_items[${i}] points past the catalogue`);
  }
  if (new Set(meta.movieIds).size !== nItems || new Set(meta.userIds).size !== nUsers) throw new ArtifactError(dir, "duplicate ids in userIds or movieIds");
  return model;
}

/** Predicted rating of user row u for item row i: mean + biases + dot product (+ the user-item table when there is one), clipped to the model's rating scale. */
export function predictRating(model: RecModel, u: number, i: number): number {
  let dot = model.userItemScores ? model.userItemScores[u * model.nItems + i]! : 0;
  const uo = u * model.k, io = i * model.k;
  for (let f = 0; f < model.k; f++) dot += model.userFactors[uo + f]! * model.itemFactors[io + f]!;
  return clipToScale(modelRatingScale(model.meta), model.meta.globalMean + model.userBias[u]! + model.itemBias[i]! + dot);
}

/**
 * The item term the top-N ranking adds to each movie's dot product: its bias, plus `prior` x
 * ln(1 + its popularity) when a popularity prior is asked for. Ranking by predicted rating alone
 * puts rarely rated movies with high predicted ratings first, while what a user rates next is
 * mostly popular (bench/ranking.ts); the prior brings the ranking back towards what users take up.
 * Ratings (predictRating, RMSE) never use it. The API and `recsys evaluate` both rank with this.
 *
 *     const bias = rankingBias(model.itemBias, model.itemPopularity, 1);
 */
export function rankingBias(itemBias: Float32Array, itemPopularity: Float32Array, prior: number): Float32Array {
  if (prior === 0) return itemBias;
  return itemBias.map((b, i) => b + prior * Math.log1p(Math.max(0, itemPopularity[i]!)));
}
