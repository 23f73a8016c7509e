import type { Rng } from "@recsys/core";
import { GENRES, GENRE_BIAS } from "./catalog.ts";
import type { MovieDraft, Population } from "./population.ts";

/**
 * The hidden ground truth: a biased matrix-factorisation model of taste, as dense typed arrays.
 * The expected rating of user u for movie i is `globalMean + userBias[u] + movieBias[i] + p_u . q_i`;
 * an observed rating adds N(0, ratingNoise) and is cut into 1..5 stars at `starCuts` (an ordered
 * model: the band for 4 stars is wider than the others, which gives MovieLens' mode of 4).
 */
export interface Truth {
  factors: number;
  globalMean: number;
  ratingNoise: number;
  /** Latent thresholds between 1|2, 2|3, 3|4 and 4|5 stars. */
  starCuts: number[];
  /** users x factors, row-major. */
  userFactors: Float32Array;
  /** movies x factors, row-major. */
  movieFactors: Float32Array;
  userBias: Float32Array;
  movieBias: Float32Array;
  /** Relative browsing weight of each movie (heavy-tailed: the popularity skew). */
  popularity: Float32Array;
  /** Relative activity of each user (mean 1): heavy users watch and rate many times more. */
  activity: Float32Array;
}

export interface TruthOptions {
  factors: number;
  globalMean: number;
  ratingNoise: number;
  starCuts: number[];
  /** Standard deviation of the interaction term p_u . q_i over random pairs. */
  interactionSd: number;
}

export const DEFAULT_TRUTH: TruthOptions = { factors: 10, globalMean: 2.7, ratingNoise: 0.7, starCuts: [1.6, 2.55, 3.35, 4.5], interactionSd: 0.6 };

const GENRE_INDEX = new Map<string, number>(GENRES.map((g, i) => [g.name, i]));

/** How much men (+) versus women (-) lean towards each genre: gives group differences in taste. */
const GENDER_TASTE: Record<string, number> = {
  Action: 1, "Science Fiction": 0.9, War: 0.8, Western: 0.6, Thriller: 0.4, Crime: 0.4, Horror: 0.2,
  Romance: -1, Family: -0.5, Music: -0.5, Drama: -0.3, Animation: -0.2,
};
/** How much the young (+) versus the old (-) lean towards each genre. */
const YOUTH_TASTE: Record<string, number> = {
  Animation: 1, Horror: 0.7, Comedy: 0.5, Fantasy: 0.6, "Science Fiction": 0.3, Adventure: 0.3,
  History: -0.7, War: -0.5, Western: -0.7, Documentary: -0.4, Drama: -0.4, Mystery: -0.3,
};
/** Youth weight per core AGE_BANDS index (<18 .. 56+). */
const BAND_YOUTH = [1, 0.8, 0.2, -0.3, -0.7, -1];
/** Users rate a little higher with age (MovieLens shows the same). */
const BAND_BIAS = [-0.05, -0.08, 0, 0.05, 0.1, 0.15];

function tasteVector(genreVecs: Float64Array, k: number, taste: Record<string, number>): Float64Array {
  const v = new Float64Array(k);
  for (const [name, w] of Object.entries(taste)) {
    const g = GENRE_INDEX.get(name)!;
    for (let f = 0; f < k; f++) v[f]! += w * genreVecs[g * k + f]!;
  }
  return v;
}

function normalVector(rng: Rng, n: number): Float64Array {
  const v = new Float64Array(n);
  for (let i = 0; i < n; i++) v[i] = rng.normal();
  return v;
}

/** Builds the truth: genre-structured movie factors, demographic-structured user factors, biases. */
export function makeTruth(rng: Rng, pop: Population, movies: MovieDraft[], opts: TruthOptions): Truth {
  const k = opts.factors;
  const nU = pop.users.length;
  const nM = movies.length;
  const genreVecs = normalVector(rng, GENRES.length * k);
  const gender = tasteVector(genreVecs, k, GENDER_TASTE);
  const youth = tasteVector(genreVecs, k, YOUTH_TASTE);

  const movieFactors = new Float32Array(nM * k);
  const movieBias = new Float32Array(nM);
  const popularity = new Float32Array(nM);
  let logPopMean = 0;
  for (const m of movies) logPopMean += Math.log(m.popularity) / nM;
  for (let i = 0; i < nM; i++) {
    const m = movies[i]!;
    let genreBias = 0;
    for (let f = 0; f < k; f++) {
      let s = 0;
      for (const g of m.genres) s += genreVecs[g * k + f]!;
      movieFactors[i * k + f] = (0.8 * s) / Math.sqrt(m.genres.length) + 0.6 * rng.normal();
    }
    for (const g of m.genres) genreBias += GENRE_BIAS[GENRES[g]!.name] ?? 0;
    const oldClassic = Number(m.releaseDate.slice(0, 4)) < 1985 ? 0.15 : 0;
    movieBias[i] = 0.4 * rng.normal() + 0.12 * (Math.log(m.popularity) - logPopMean) + genreBias / m.genres.length + oldClassic;
    popularity[i] = m.popularity;
  }

  const userFactors = new Float32Array(nU * k);
  const userBias = new Float32Array(nU);
  const activity = new Float32Array(nU);
  let activitySum = 0;
  for (let u = 0; u < nU; u++) {
    const sex = pop.male[u] ? 1 : -1;
    const band = pop.ageBand[u]!;
    const youthW = BAND_YOUTH[band]!;
    for (let f = 0; f < k; f++) {
      userFactors[u * k + f] = 0.25 * (sex * gender[f]! + youthW * youth[f]!) + 0.9 * rng.normal();
    }
    userBias[u] = 0.38 * rng.normal() + BAND_BIAS[band]! + (sex < 0 ? 0.03 : 0);
    activity[u] = Math.exp(0.9 * rng.normal());
    activitySum += activity[u]!;
  }
  for (let u = 0; u < nU; u++) activity[u] = (activity[u]! * nU) / activitySum;

  scaleInteraction(rng, userFactors, movieFactors, k, opts.interactionSd);
  return { factors: k, globalMean: opts.globalMean, ratingNoise: opts.ratingNoise, starCuts: opts.starCuts, userFactors, movieFactors, userBias, movieBias, popularity, activity };
}

/** Rescales both factor matrices so p_u . q_i has the requested spread over random pairs. */
function scaleInteraction(rng: Rng, P: Float32Array, Q: Float32Array, k: number, targetSd: number): void {
  const nU = P.length / k;
  const nM = Q.length / k;
  let s = 0, s2 = 0;
  const draws = 20000;
  for (let d = 0; d < draws; d++) {
    const x = dot(P, rng.int(nU), Q, rng.int(nM), k);
    s += x;
    s2 += x * x;
  }
  const sd = Math.sqrt(Math.max(s2 / draws - (s / draws) ** 2, 1e-12));
  const c = Math.sqrt(targetSd / sd);
  for (let i = 0; i < P.length; i++) P[i] = P[i]! * c;
  for (let i = 0; i < Q.length; i++) Q[i] = Q[i]! * c;
}

function dot(P: Float32Array, u: number, Q: Float32Array, i: number, k: number): number {
  let x = 0;
  const pu = u * k, qi = i * k;
  for (let f = 0; f < k; f++) x += P[pu + f]! * Q[qi + f]!;
  return x;
}

/** How much user u likes movie i beyond their own rating habit: movie bias plus interaction. */
export function affinity(t: Truth, u: number, i: number): number {
  return t.movieBias[i]! + dot(t.userFactors, u, t.movieFactors, i, t.factors);
}

/** Expected (noise-free, unrounded) rating of user index u for movie index i. */
export function expectedScore(t: Truth, u: number, i: number): number {
  return t.globalMean + t.userBias[u]! + affinity(t, u, i);
}

/** One observed star rating: expected score plus noise, cut into 1..5 stars at `starCuts`. */
export function drawRating(t: Truth, u: number, i: number, rng: Rng): number {
  const y = expectedScore(t, u, i) + t.ratingNoise * rng.normal();
  let stars = 1;
  for (const cut of t.starCuts) if (y > cut) stars++;
  return stars;
}
