import { writeFile, mkdir } from "node:fs/promises";
import { join } from "node:path";
import { DATASET_FILES, RATINGS_HEADER, WATCHES_HEADER, createRng, formatEventTime, md5File } from "@recsys/core";
import { createHash } from "node:crypto";
import { RatingBuilder, type RatingSet } from "./ratings.ts";

export interface SyntheticOptions {
  users: number;
  items: number;
  ratings: number;
  /** Rank of the hidden taste model. */
  rank: number;
  /** Std of the hidden dot product (taste signal) and of the per-rating noise, before rounding to stars. */
  tasteStd: number;
  noiseStd: number;
  seed: number;
  /** true: stars drawn uniformly, no structure at all (a model cannot beat RMSE ~1.4). */
  random?: boolean;
}

/** MovieLens-100k-like shape: 943 users, 1682 movies, mean 3.53, biases and a weak low-rank taste. */
export const ML100K_LIKE: SyntheticOptions = { users: 943, items: 1682, ratings: 100_000, rank: 3, tasteStd: 0.5, noiseStd: 0.8, seed: 7 };

const START = Date.parse("2026-01-01T00:00:00Z");
const DAY = 86_400_000;

/**
 * Ratings from a known low-rank model plus noise, rounded to 1..5 stars, with MovieLens-like
 * skew: heavy-tailed user activity (at least 20 ratings each, as in ml-100k) and Zipf-like
 * movie popularity. For tests and the bench, where real MovieLens is not available.
 *
 *     const { ratings } = syntheticRatings({ ...ML100K_LIKE, ratings: 1_000_000, users: 6040, items: 3706 });
 */
export function syntheticRatings(o: SyntheticOptions): { ratings: RatingSet; nUsers: number; nItems: number } {
  const rng = createRng(o.seed);
  const bu = Float64Array.from({ length: o.users }, () => rng.normal() * 0.35);
  const bi = Float64Array.from({ length: o.items }, () => rng.normal() * 0.45);
  const factorStd = Math.sqrt(o.tasteStd / Math.sqrt(o.rank));
  const P = Float64Array.from({ length: o.users * o.rank }, () => rng.normal() * factorStd);
  const Q = Float64Array.from({ length: o.items * o.rank }, () => rng.normal() * factorStd);
  // Popularity: Zipf weights over a shuffled catalogue; activity: Pareto-like on top of 20 each.
  const cum = new Float64Array(o.items);
  for (let i = 0, acc = 0; i < o.items; i++) { acc += 1 / Math.pow(1 + ((i * 7919) % o.items), 0.9); cum[i] = acc; }
  const activity = Float64Array.from({ length: o.users }, () => 1 / Math.pow(1 - rng.next() * 0.999, 0.8));
  const minEach = Math.min(20, Math.floor(o.ratings / o.users));
  const spare = o.ratings - minEach * o.users;
  const totalAct = activity.reduce((a, b) => a + b, 0);
  const out = new RatingBuilder();
  const taken = new Int32Array(o.items).fill(-1);
  for (let u = 0; u < o.users; u++) {
    const want = Math.min(o.items, minEach + Math.round((spare * activity[u]!) / totalAct));
    for (let c = 0; c < want; c++) {
      let i: number;
      do i = lowerBound(cum, rng.next() * cum[o.items - 1]!); while (taken[i] === u);
      taken[i] = u;
      let dot = 0;
      for (let f = 0; f < o.rank; f++) dot += P[u * o.rank + f]! * Q[i * o.rank + f]!;
      const raw = o.random ? 1 + rng.int(5) : 3.53 + bu[u]! + bi[i]! + dot + rng.normal() * o.noiseStd;
      out.push(u, i, Math.min(5, Math.max(1, Math.round(raw))), START + Math.floor(rng.next() * 200 * DAY));
    }
  }
  return { ratings: out.finish(), nUsers: o.users, nItems: o.items };
}

function lowerBound(cum: Float64Array, x: number): number {
  let lo = 0, hi = cum.length - 1;
  while (lo < hi) { const mid = (lo + hi) >> 1; if (cum[mid]! < x) lo = mid + 1; else hi = mid; }
  return lo;
}

/**
 * Writes synthetic ratings as a canonical dataset directory (ratings.csv, watches.csv with a
 * watch for every rating, users.jsonl with age and gender, manifest.json), for tests.
 * User ids are row + 1; movie ids `movie+<row>`.
 */
export async function writeSyntheticDataset(dir: string, o: SyntheticOptions): Promise<void> {
  const { ratings, nUsers } = syntheticRatings(o);
  await mkdir(dir, { recursive: true });
  const rows = [RATINGS_HEADER.join(",")], watches = [WATCHES_HEADER.join(",")];
  let last = 0;
  for (let r = 0; r < ratings.length; r++) {
    const user = ratings.users[r]! + 1, movie = `movie+${ratings.items[r]}`, t = ratings.times[r]!;
    last = Math.max(last, t);
    rows.push(`${user},${movie},${ratings.values[r]},${formatEventTime(t)}`);
    watches.push(`${user},${movie},${10 + (r % 80)},${90},${formatEventTime(t - 3_600_000)},${formatEventTime(t - 60_000)}`);
  }
  const users = Array.from({ length: nUsers }, (_, u) => JSON.stringify({ user_id: u + 1, age: 15 + ((u * 13) % 50), gender: u % 3 === 0 ? "F" : "M" }));
  await writeFile(join(dir, DATASET_FILES.ratings), rows.join("\n") + "\n");
  await writeFile(join(dir, DATASET_FILES.watches), watches.join("\n") + "\n");
  await writeFile(join(dir, DATASET_FILES.users), users.join("\n") + "\n");
  const files: Record<string, string> = {};
  for (const f of [DATASET_FILES.ratings, DATASET_FILES.watches, DATASET_FILES.users]) files[f] = await md5File(join(dir, f));
  const dataHash = createHash("md5").update(Object.values(files).join("")).digest("hex");
  const manifest = {
    schemaVersion: 1, source: `synthetic seed ${o.seed}`, counts: { ratings: ratings.length, watches: ratings.length, users: nUsers },
    timeRange: { first: formatEventTime(START), last: formatEventTime(last) }, files, dataHash,
  };
  await writeFile(join(dir, DATASET_FILES.manifest), JSON.stringify(manifest, null, 1) + "\n");
}
