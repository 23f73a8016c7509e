import { readFileSync } from "node:fs";
import { InputError, MovieSchema, parseOrThrow } from "@recsys/core";
import type { RecModel } from "@recsys/artifact";

/** Steck's smoothing of the list's genre distribution, so KL stays finite when a genre is missing. */
export const CALIBRATION_ALPHA = 0.01;

/** Candidates the re-ranker picks the served list from unless configured otherwise. */
export const CALIBRATION_CANDIDATES = 100;

/** Calibrated re-ranking (Steck, RecSys 2018) as `recommend` applies it. */
export interface CalibrationOptions {
  /** Weight of calibration against score, 0..1: 0 keeps the score order. */
  lambda: number;
  /** How many of the best-scoring unseen movies the served list is picked from. */
  candidates: number;
  /** Genre names by movie id; movies not in it count as having no genre. */
  genres: ReadonlyMap<string, readonly string[]>;
}

/** Adds one movie to un-normalised genre sums: weight 1 spread evenly over its genres. */
function addMovie<G>(sums: Map<G, number>, genres: readonly G[]): void {
  for (const g of genres) sums.set(g, (sums.get(g) ?? 0) + 1 / genres.length);
}

const normalised = <G>(sums: Map<G, number>, movies: number) => new Map([...sums].map(([g, w]) => [g, w / movies] as const));

/**
 * Genre distribution of a set of movies (rows of `genresOf`): each movie spreads weight 1 evenly
 * over its genres; movies without a genre do not count.
 *
 *     genreDistribution([0, 1], [["Drama"], ["Drama", "War"]]) // Drama 0.75, War 0.25
 */
export function genreDistribution<G>(movies: Iterable<number>, genresOf: readonly (readonly G[])[]): Map<G, number> {
  const sums = new Map<G, number>();
  let counted = 0;
  for (const i of movies) {
    const gs = genresOf[i] ?? [];
    addMovie(sums, gs);
    if (gs.length) counted++;
  }
  return normalised(sums, counted);
}

/** Steck (RecSys 2018): KL(p || q~) with q~ = (1 - alpha) q + alpha p; 0 for a perfectly calibrated list. */
export function calibrationKl<G>(history: ReadonlyMap<G, number>, list: ReadonlyMap<G, number>, alpha = CALIBRATION_ALPHA): number {
  return klOf(history, (g) => list.get(g) ?? 0, alpha);
}

/** The KL above with the list's share of each genre given by a function (the re-ranker's trial lists). */
function klOf<G>(history: ReadonlyMap<G, number>, share: (g: G) => number, alpha: number): number {
  let kl = 0;
  for (const [g, p] of history) {
    if (p > 0) kl += p * Math.log(p / ((1 - alpha) * share(g) + alpha * p));
  }
  return kl;
}

/**
 * Greedy calibrated re-ranking: picks `count` of the best-first `candidates` one at a time, each
 * maximising (1 - lambda) * (sum of scores) - lambda * KL(history || list so far + it). Ties keep
 * the score order, so lambda 0 returns the first `count` candidates unchanged. Deterministic.
 *
 *     calibratedRerank([3, 7, 9], [2.1, 2.0, 1.2], genresOf, history, 0.5, 2)
 */
export function calibratedRerank<G>(
  candidates: ArrayLike<number>, scores: ArrayLike<number>, genresOf: readonly (readonly G[])[],
  history: ReadonlyMap<G, number>, lambda: number, count: number,
): number[] {
  const picked: number[] = [];
  const taken = new Uint8Array(candidates.length);
  const sums = new Map<G, number>();
  let counted = 0;
  while (picked.length < Math.min(count, candidates.length)) {
    let best = -1, bestValue = -Infinity;
    for (let c = 0; c < candidates.length; c++) {
      if (taken[c]) continue;
      const gs = genresOf[candidates[c]!] ?? [];
      // The list so far plus this movie, without building it: its weight 1/|gs| on each of its genres.
      const movies = counted + (gs.length ? 1 : 0);
      const share = (g: G) => (movies ? ((sums.get(g) ?? 0) + (gs.includes(g) ? 1 / gs.length : 0)) / movies : 0);
      const kl = lambda > 0 ? klOf(history, share, CALIBRATION_ALPHA) : 0;
      const value = (1 - lambda) * scores[c]! - lambda * kl;
      if (value > bestValue) { best = c; bestValue = value; }
    }
    taken[best] = 1;
    const gs = genresOf[candidates[best]!] ?? [];
    addMovie(sums, gs);
    if (gs.length) counted++;
    picked.push(candidates[best]!);
  }
  return picked;
}

const genreRows = new WeakMap<RecModel, { genres: ReadonlyMap<string, readonly string[]>; rows: (readonly string[])[] }>();

/** Genres by the model's item rows, built once per model and genre table. */
export function itemGenres(model: RecModel, genres: ReadonlyMap<string, readonly string[]>): (readonly string[])[] {
  let entry = genreRows.get(model);
  if (!entry || entry.genres !== genres) {
    entry = { genres, rows: model.meta.movieIds.map((id) => genres.get(id) ?? []) };
    genreRows.set(model, entry);
  }
  return entry.rows;
}

/**
 * The genre table of a dataset's movies.jsonl, read once when the server is built (the artifact
 * carries no genres). A missing file or a bad line is an InputError naming it.
 *
 *     readGenres("data/movies.jsonl").get("m42") // ["Drama", "War"]
 */
export function readGenres(path: string): Map<string, string[]> {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    throw new InputError("RECSYS_API_BAD_MOVIES", `cannot read the movies file ${path} for calibration: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message} (check --movies / RECSYS_MOVIES)`);
  }
  const genres = new Map<string, string[]>();
  text.split("\n").forEach((line, i) => {
    if (line.trim() === "") return;
    let json: unknown;
    try { json = JSON.parse(line); } catch { json = line; }
    const m = parseOrThrow(MovieSchema, json, `${path}:${i + 1}`, "RECSYS_API_BAD_MOVIES");
    genres.set(m.id, m.genres.map((g) => g.name));
  });
  return genres;
}
