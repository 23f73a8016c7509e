import { access } from "node:fs/promises";
import { join } from "node:path";
import {
  DATASET_FILES, InputError, RATINGS_HEADER, STREAM_RATING_SCALE, WATCHES_HEADER, formatRatingScale, onRatingScale, ratingScaleOf, readCsvLines,
  readUsers, verifyDatasetFiles, type Manifest, type RatingScale, type User,
} from "@recsys/core";
import { RatingBuilder, UNKNOWN, eventTimeMs, type RatingSet } from "./ratings.ts";

/** Watch signal per (user, movie): distinct minutes watched and the last watch time. */
export interface WatchSet {
  length: number;
  users: Uint32Array;
  items: Uint32Array;
  minutes: Float32Array;
  times: Float64Array;
}

/**
 * A canonical dataset loaded for training: id maps (users sorted numerically, movies sorted
 * as strings, so row order depends only on content), ratings and watches as typed arrays,
 * users with side information, and the manifest (for dataHash and the last event time).
 */
export interface TrainingData {
  dir: string;
  manifest: Manifest;
  /** The manifest's rating scale: every rating read is on it, and predictions are clipped to it. */
  scale: RatingScale;
  userIds: number[];
  movieIds: string[];
  userIndex: Map<number, number>;
  movieIndex: Map<string, number>;
  ratings: RatingSet;
  watches: WatchSet;
  users: User[];
}

const BAD = "RECSYS_BAD_DATASET";

async function exists(path: string): Promise<boolean> {
  return access(path).then(() => true, () => false);
}

function checkRow(path: string, line: number, userId: number, movieId: string, time: number): void {
  if (!Number.isInteger(userId) || userId < 0 || userId > 0xfffffffe) throw new InputError(BAD, `${path}:${line}: bad user_id`);
  if (movieId === "") throw new InputError(BAD, `${path}:${line}: empty movie_id`);
  if (!Number.isFinite(time)) throw new InputError(BAD, `${path}:${line}: bad time`);
}

/** Interns ids in first-seen order; `sorted()` then gives the content-ordered remap. */
class Interner<K extends number | string> {
  readonly index = new Map<K, number>();
  readonly ids: K[] = [];
  id(key: K): number {
    let i = this.index.get(key);
    if (i === undefined) { i = this.ids.length; this.index.set(key, i); this.ids.push(key); }
    return i;
  }
  /** Sorted ids, their index map, and old index -> new index. */
  sorted(compare: (a: K, b: K) => number): { ids: K[]; index: Map<K, number>; remap: Uint32Array } {
    const ids = [...this.ids].sort(compare);
    const index = new Map(ids.map((k, i) => [k, i] as const));
    const remap = new Uint32Array(this.ids.length);
    this.ids.forEach((k, old) => { remap[old] = index.get(k)!; });
    return { ids, index, remap };
  }
}

/**
 * Streams a dataset directory (ratings.csv, watches.csv, users.jsonl, manifest.json as
 * @recsys/core defines them) into typed arrays, after checking every file the manifest lists
 * against its md5 (a file changed since ingest is an InputError naming it). watches.csv and
 * users.jsonl are optional (MovieLens imports may lack them); a bad row is an InputError naming
 * file and line.
 *
 *     const data = await loadTrainingData("data/2026-12-01");
 */
export async function loadTrainingData(dir: string): Promise<TrainingData> {
  // The model records manifest.dataHash: it must name exactly the bytes read below.
  const manifest = await verifyDatasetFiles(dir);
  if (!(await exists(join(dir, DATASET_FILES.ratings)))) throw new InputError(BAD, `${dir}: no ${DATASET_FILES.ratings} (is it a dataset written by 'recsys ingest'?)`);
  const users = new Interner<number>(), movies = new Interner<string>();
  const scale = ratingScaleOf(manifest);
  const ratings = await streamRatings(dir, scale, (userId) => users.id(userId), (movieId) => movies.id(movieId));
  const watch = new RatingBuilder();
  const watchPath = join(dir, DATASET_FILES.watches);
  if (await exists(watchPath)) {
    await readCsvLines(watchPath, WATCHES_HEADER, (f, line) => {
      const userId = Number(f[0]), minutes = Number(f[2]), time = eventTimeMs(f[5]!);
      checkRow(watchPath, line, userId, f[1]!, time);
      if (!(minutes >= 0)) throw new InputError(BAD, `${watchPath}:${line}: bad minutes`);
      watch.push(users.id(userId), movies.id(f[1]!), minutes, time);
    });
  }
  const sideUsers = (await exists(join(dir, DATASET_FILES.users))) ? await readUsers(dir) : [];
  const u = users.sorted((a, b) => a - b);
  const m = movies.sorted((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const rs = remapSet(ratings, u.remap, m.remap);
  const ws = remapSet(watch.finish(), u.remap, m.remap);
  return {
    dir, manifest, scale, userIds: u.ids, movieIds: m.ids, userIndex: u.index, movieIndex: m.index, ratings: rs,
    watches: { length: ws.length, users: ws.users, items: ws.items, minutes: ws.values, times: ws.times },
    users: sideUsers,
  };
}

function remapSet(s: RatingSet, userRemap: Uint32Array, itemRemap: Uint32Array): RatingSet {
  for (let r = 0; r < s.length; r++) {
    s.users[r] = userRemap[s.users[r]!]!;
    s.items[r] = itemRemap[s.items[r]!]!;
  }
  return s;
}

/**
 * Reads the ratings of another dataset (a held-out or evaluation set) against fixed id maps:
 * users or movies the maps lack get row UNKNOWN, so the predictor falls back to the biases it has.
 * Its ratings must lie on `scale`, the model's (a held-out set on another scale cannot score it).
 *
 *     const test = await loadRatingsAgainst("data/next-week", data.userIndex, data.movieIndex, data.scale);
 */
export async function loadRatingsAgainst(dir: string, userIndex: ReadonlyMap<number, number>, movieIndex: ReadonlyMap<string, number>, scale: RatingScale = STREAM_RATING_SCALE): Promise<RatingSet> {
  if (!(await exists(join(dir, DATASET_FILES.ratings)))) throw new InputError(BAD, `${dir}: no ${DATASET_FILES.ratings}`);
  return streamRatings(dir, scale, (userId) => userIndex.get(userId) ?? UNKNOWN, (movieId) => movieIndex.get(movieId) ?? UNKNOWN);
}

/** Streams and checks ratings.csv into a RatingSet (every rating on `scale`), mapping ids to rows through the two functions. */
async function streamRatings(dir: string, scale: RatingScale, userRow: (id: number) => number, movieRow: (id: string) => number): Promise<RatingSet> {
  const out = new RatingBuilder(), path = join(dir, DATASET_FILES.ratings);
  await readCsvLines(path, RATINGS_HEADER, (f, line) => {
    const userId = Number(f[0]), rating = Number(f[2]), time = eventTimeMs(f[3]!);
    checkRow(path, line, userId, f[1]!, time);
    if (!onRatingScale(scale, rating)) {
      throw new InputError(BAD, `${path}:${line}: rating ${f[2]} is off the rating scale ${formatRatingScale(scale)} (${DATASET_FILES.manifest}'s ratingScale; a dataset without one means 1..5 step 1: re-run 'recsys ingest' to record its scale)`);
    }
    out.push(userRow(userId), movieRow(f[1]!), rating, time);
  });
  return out.finish();
}
