import { formatRateLine, formatWatchLine, type Rng } from "@recsys/core";
import { affinity, drawRating, expectedScore } from "./truth.ts";
import { geometric, sigmoid } from "./sampling.ts";
import { movieIndexOf, userIndexOf, type World } from "./world.ts";

/**
 * The user-choice model, shared by the file generator and closed-loop simulation.
 * Browsing: the user sees a popularity-weighted handful of titles and picks by taste.
 * A recommendation list: position-based click model (examination falls with rank, attraction
 * rises with true preference), with an outside option of ignoring the list.
 * Watching: liked movies are watched to the end, disliked ones abandoned after a few minutes;
 * a finished movie is rated far more often than an abandoned one.
 */
export const CHOICE = {
  /** Titles seen per browse. */
  browseCandidates: 24,
  /** Taste sharpness when browsing (per point of affinity). */
  browseBeta: 1.2,
  /** Examination probability at rank p (0-based) is (1 + p) ^ -positionDecay. */
  positionDecay: 0.7,
  /** Attraction = sigmoid(attractSlope * (expected rating - attractPivot)). */
  attractSlope: 2,
  attractPivot: 3.6,
  /** Weight of ignoring the list, against the summed examined attractions. */
  ignoreWeight: 1,
  /** Completion = sigmoid(completeSlope * (expected rating - completePivot)). */
  completeSlope: 2,
  completePivot: 4.1,
  /** Most viewers rate a finished movie; fewer rate one they gave up on. */
  rateIfFinished: 0.8,
  rateIfAbandoned: 0.4,
  minuteMs: 60_000,
} as const;

const scratchIdx = new Int32Array(CHOICE.browseCandidates);
const scratchW = new Float64Array(CHOICE.browseCandidates);

/** A movie index chosen by browsing: popularity brings titles in front of the user, taste picks. */
export function browsePick(world: World, u: number, rng: Rng): number {
  const n = CHOICE.browseCandidates;
  let max = -Infinity;
  for (let c = 0; c < n; c++) {
    const i = world.browse.sample(rng);
    scratchIdx[c] = i;
    scratchW[c] = CHOICE.browseBeta * affinity(world.truth, u, i);
    if (scratchW[c]! > max) max = scratchW[c]!;
  }
  let total = 0;
  for (let c = 0; c < n; c++) total += scratchW[c] = Math.exp(scratchW[c]! - max);
  let x = rng.next() * total;
  for (let c = 0; c < n; c++) if ((x -= scratchW[c]!) < 0) return scratchIdx[c]!;
  return scratchIdx[n - 1]!;
}

/** Click weight of movie index i at rank p for user u (examination x attraction). */
function clickWeight(world: World, u: number, i: number, p: number): number {
  const examine = Math.pow(1 + p, -CHOICE.positionDecay);
  return examine * sigmoid(CHOICE.attractSlope * (expectedScore(world.truth, u, i) - CHOICE.attractPivot));
}

/** Position in `list` (movie indices, -1 for unknown ids) the user picks, or -1 when ignoring it. */
export function chooseFromList(world: World, u: number, list: ArrayLike<number>, rng: Rng): number {
  let total = CHOICE.ignoreWeight;
  for (let p = 0; p < list.length; p++) if (list[p]! >= 0) total += clickWeight(world, u, list[p]!, p);
  let x = rng.next() * total - CHOICE.ignoreWeight;
  if (x < 0) return -1;
  for (let p = 0; p < list.length; p++) {
    if (list[p]! < 0) continue;
    if ((x -= clickWeight(world, u, list[p]!, p)) < 0) return p;
  }
  return -1;
}

/** How a watch of movie index i by user u goes: minutes watched and the stars given (0: no rating). */
export interface WatchOutcome {
  minutes: number;
  rating: number;
}

export function watchOutcome(world: World, u: number, i: number, rng: Rng): WatchOutcome {
  const runtime = world.runtime[i]!;
  const c = sigmoid(CHOICE.completeSlope * (expectedScore(world.truth, u, i) - CHOICE.completePivot));
  const finished = rng.next() < c;
  const minutes = finished ? runtime : Math.min(runtime - 1, geometric(rng, 3 + 20 * c));
  const rates = rng.next() < (finished ? CHOICE.rateIfFinished : CHOICE.rateIfAbandoned);
  return { minutes, rating: rates ? drawRating(world.truth, u, i, rng) : 0 };
}

/** Gap between two watched-minute requests: a minute of video, give or take the player's buffering. */
export function minuteStep(rng: Rng): number {
  return CHOICE.minuteMs - 400 + rng.int(800);
}

/** Delay between the last watched minute and the rating. */
export function ratingDelay(rng: Rng): number {
  return 5_000 + rng.int(180_000);
}

/** What a user did with one recommendation list. */
export interface Response {
  /** The chosen movie id, or null when the list was ignored. */
  movieId: string | null;
  /** 0-based rank of the chosen movie in the list, or -1. */
  position: number;
  minutes: number;
  /** Stars given, or null when the user did not rate. */
  rating: number | null;
  /** Event lines in time order: one per watched minute, then the rating if any. */
  lines: string[];
}

/**
 * The lines a user produces after seeing `recommendedMovieIds` at `timeMs`: they pick by true
 * preference and rank (or ignore the list), watch some minutes from a few seconds later, and may
 * rate. Ids unknown to the world are never picked. Deterministic for a given rng state.
 *
 *     const r = respondToRecommendations(world, 17, ["the+silent+river+1994", ...], Date.now(), rng);
 *     for (const line of r.lines) stream.write(line + "\n");
 */
export function respondToRecommendations(world: World, userId: number, recommendedMovieIds: readonly string[], timeMs: number, rng: Rng): Response {
  const u = userIndexOf(world, userId);
  const list = recommendedMovieIds.map((id) => world.movieIndex.get(id) ?? -1);
  const position = chooseFromList(world, u, list, rng);
  if (position < 0) return { movieId: null, position: -1, minutes: 0, rating: null, lines: [] };
  const i = list[position]!;
  const movieId = world.movieIds[i]!;
  const outcome = watchOutcome(world, u, i, rng);
  const lines: string[] = [];
  let t = timeMs + 2_000 + rng.int(20_000);
  for (let m = 1; m <= outcome.minutes; m++) {
    lines.push(formatWatchLine(t, userId, movieId, m));
    if (m < outcome.minutes) t += minuteStep(rng);
  }
  if (outcome.rating) lines.push(formatRateLine(t + ratingDelay(rng), userId, movieId, outcome.rating));
  return { movieId, position, minutes: outcome.minutes, rating: outcome.rating || null, lines };
}

/** A user id drawn by activity: heavy users come back far more often, as on a real site. */
export function sampleActiveUser(world: World, rng: Rng): number {
  return world.users[world.traffic.sample(rng)]!.user_id;
}

/** The noise-free rating user `userId` would give `movieId`, clamped to 1..5 (evaluation only). */
export function trueRating(world: World, userId: number, movieId: string): number {
  const s = expectedScore(world.truth, userIndexOf(world, userId), movieIndexOf(world, movieId));
  return s < 1 ? 1 : s > 5 ? 5 : s;
}

/**
 * Expected outcome of showing `recommendedMovieIds` to a user under the choice model: the chance
 * they pick something and the mean true rating of what they pick. Compares lists without sampling.
 */
export function expectedListValue(world: World, userId: number, recommendedMovieIds: readonly string[]): { pickProbability: number; expectedRating: number } {
  const u = userIndexOf(world, userId);
  let total = CHOICE.ignoreWeight, weighted = 0;
  recommendedMovieIds.forEach((id, p) => {
    const i = world.movieIndex.get(id);
    if (i === undefined) return;
    const w = clickWeight(world, u, i, p);
    total += w;
    weighted += w * Math.min(5, Math.max(1, expectedScore(world.truth, u, i)));
  });
  const picked = total - CHOICE.ignoreWeight;
  return { pickProbability: picked / total, expectedRating: picked > 0 ? weighted / picked : 0 };
}

/** The n movie ids the user truly likes best (an oracle list, for regret-style evaluation). */
export function idealRecommendations(world: World, userId: number, n: number): string[] {
  const u = userIndexOf(world, userId);
  const scores = new Float64Array(world.movies.length);
  for (let i = 0; i < scores.length; i++) scores[i] = affinity(world.truth, u, i);
  const order = Array.from(scores.keys()).sort((a, b) => scores[b]! - scores[a]! || a - b);
  return order.slice(0, n).map((i) => world.movieIds[i]!);
}
