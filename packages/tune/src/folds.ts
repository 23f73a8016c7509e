import { createRng } from "@recsys/core";
import { pickRows, type RatingSet } from "@recsys/train";

/**
 * Seeded k-fold assignment by rating (as Surprise's KFold): a seeded permutation of the ratings
 * cut into k near-equal parts; foldOf[r] is the fold rating r is tested in. Same seed, same folds.
 *
 *     const foldOf = assignFolds(ratings.length, 5, 42);
 */
export function assignFolds(length: number, folds: number, seed: number): Uint8Array {
  const order = new Uint32Array(length).map((_, r) => r);
  const rng = createRng(seed).fork("folds");
  for (let j = length - 1; j > 0; j--) {
    const s = rng.int(j + 1);
    const t = order[j]!; order[j] = order[s]!; order[s] = t;
  }
  const foldOf = new Uint8Array(length);
  for (let j = 0; j < length; j++) foldOf[order[j]!] = Math.floor((j * folds) / length);
  return foldOf;
}

/** The training part (every other fold) and the test part (this fold) of a rating set. */
export function foldSplit(ratings: RatingSet, foldOf: Uint8Array, fold: number): { train: RatingSet; test: RatingSet } {
  let nTest = 0;
  for (let r = 0; r < ratings.length; r++) if (foldOf[r] === fold) nTest++;
  const trainRows = new Uint32Array(ratings.length - nTest), testRows = new Uint32Array(nTest);
  for (let r = 0, a = 0, b = 0; r < ratings.length; r++) {
    if (foldOf[r] === fold) testRows[b++] = r; else trainRows[a++] = r;
  }
  return { train: pickRows(ratings, trainRows), test: pickRows(ratings, testRows) };
}
