import type { RecModel } from "@recsys/artifact";
import type { RatingSet, Scorer } from "@recsys/train";

/**
 * A trained scorer as the in-memory RecModel that evaluateRatings ranks with (its serving form:
 * factors plus any user-item table), with the training part as each user's seen movies. Only
 * what ranking and RMSE read is filled; nothing is written to disk.
 */
export function artifactView(scorer: Scorer, train: RatingSet, nUsers: number, nItems: number): RecModel {
  const { factors: f, userItemScores } = scorer.serving();
  const seenOffsets = new Uint32Array(nUsers + 1);
  for (let r = 0; r < train.length; r++) seenOffsets[train.users[r]! + 1]!++;
  for (let u = 0; u < nUsers; u++) seenOffsets[u + 1]! += seenOffsets[u]!;
  const fill = seenOffsets.slice(0, nUsers), seenItems = new Uint32Array(train.length);
  for (let r = 0; r < train.length; r++) seenItems[fill[train.users[r]!]!++] = train.items[r]!;
  const userBias = f.userBias.length === nUsers ? f.userBias : new Float32Array(nUsers);
  const userFactors = f.k === 0 ? new Float32Array(0) : f.userFactors;
  return {
    meta: { globalMean: f.globalMean } as RecModel["meta"], nUsers, nItems, k: f.k, userFactors, itemFactors: f.itemFactors, userBias, itemBias: f.itemBias,
    seenOffsets, seenItems, itemPopularity: new Float32Array(nItems), groupPopularity: new Float32Array(0),
    sideUserIds: new Uint32Array(0), sideUserGroups: new Uint8Array(0), ...(userItemScores ? { userItemScores } : {}),
  };
}
