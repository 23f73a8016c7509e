import { createRng } from "@recsys/core";
import { pickRows, rowsByUser, type RatingSet } from "./ratings.ts";

export type SplitMode = "random" | "time";

export interface SplitOptions {
  mode: SplitMode;
  /** Share of each user's ratings held out (rounded down, so users with few ratings keep all). */
  fraction: number;
  seed: number;
}

/**
 * Per-user hold-out split. `random`: a seeded random share of each user's ratings;
 * `time`: each user's most recent ratings (ties broken by movie row), as production sees the
 * future. Every user keeps at least one training rating. Same input and seed, same split.
 *
 *     const { train, test } = splitRatings(data.ratings, data.userIds.length, { mode: "time", fraction: 0.2, seed: 42 });
 */
export function splitRatings(ratings: RatingSet, nUsers: number, options: SplitOptions): { train: RatingSet; test: RatingSet } {
  const { offsets, order } = rowsByUser(ratings, nUsers);
  const rng = createRng(options.seed).fork("split");
  const isTest = new Uint8Array(ratings.length);
  let nTest = 0;
  for (let u = 0; u < nUsers; u++) {
    const start = offsets[u]!, end = offsets[u + 1]!, n = end - start;
    const hold = Math.min(Math.floor(n * options.fraction), n - 1);
    if (hold <= 0) continue;
    const rows = order.subarray(start, end);
    if (options.mode === "time") {
      rows.sort((a, b) => ratings.times[a]! - ratings.times[b]! || ratings.items[a]! - ratings.items[b]!);
      for (let j = n - hold; j < n; j++) isTest[rows[j]!] = 1;
    } else {
      // Partial Fisher-Yates: the last `hold` slots become a uniform random sample.
      for (let j = n - 1; j >= n - hold; j--) {
        const k = rng.int(j + 1);
        const t = rows[j]!; rows[j] = rows[k]!; rows[k] = t;
        isTest[rows[j]!] = 1;
      }
    }
    nTest += hold;
  }
  const trainRows = new Uint32Array(ratings.length - nTest), testRows = new Uint32Array(nTest);
  for (let r = 0, a = 0, b = 0; r < ratings.length; r++) {
    if (isTest[r]) testRows[b++] = r; else trainRows[a++] = r;
  }
  return { train: pickRows(ratings, trainRows), test: pickRows(ratings, testRows) };
}
