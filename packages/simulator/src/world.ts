import { z } from "zod";
import { createRng, parseOrThrow, type Movie, type Rng, type User } from "@recsys/core";
import { GENRES } from "./catalog.ts";
import { makeMovieDrafts, makePopulation } from "./population.ts";
import { aliasTable, clamp, type AliasTable } from "./sampling.ts";
import { DEFAULT_TRUTH, makeTruth, type Truth } from "./truth.ts";
import { SIM_ERRORS, unknownIdError } from "./errors.ts";

export const WorldOptionsSchema = z.object({
  users: z.number().int().min(1).max(1_000_000),
  /** At least 25 so a 20-item recommendation list always has distinct movies. */
  movies: z.number().int().min(25).max(500_000),
  seed: z.number().int().min(0).max(2 ** 32 - 1),
  factors: z.number().int().min(1).max(64).default(DEFAULT_TRUTH.factors),
  globalMean: z.number().min(1).max(5).default(DEFAULT_TRUTH.globalMean),
  /** Noise on each observed rating; raise it (e.g. 3) to make a data set that cannot be learned. */
  ratingNoise: z.number().min(0).max(10).default(DEFAULT_TRUTH.ratingNoise),
  /** Four increasing latent thresholds between star levels. */
  starCuts: z.array(z.number()).length(4).refine((c) => c.every((x, i) => i === 0 || x > c[i - 1]!), "must increase").default(DEFAULT_TRUTH.starCuts),
  interactionSd: z.number().min(0).max(5).default(DEFAULT_TRUTH.interactionSd),
  /** Share of users and of movies that appear in events but are left out of the side files. */
  unlistedShare: z.number().min(0).max(0.5).default(0.005),
}).strict();
export type WorldOptions = z.input<typeof WorldOptionsSchema>;

/** The whole synthetic site: side information, hidden truth and the lookup tables around them. */
export interface World {
  options: z.output<typeof WorldOptionsSchema>;
  /** Users 1..n as the user info service knows them (including unlisted ones). */
  users: User[];
  /** Movies as the movie info service knows them (including unlisted ones). */
  movies: Movie[];
  truth: Truth;
  /** user_id -> index into users / truth rows. */
  userIndex: Map<number, number>;
  /** movie slug -> index into movies / truth rows. */
  movieIndex: Map<string, number>;
  movieIds: string[];
  runtime: Uint16Array;
  /** 1 when the user / movie is written to the side files; 0 for the deliberately missing ones. */
  listedUser: Uint8Array;
  listedMovie: Uint8Array;
  /** Popularity-weighted movie draws (browsing the catalogue). */
  browse: AliasTable;
  /** Activity-weighted user draws (who is on the site right now). */
  traffic: AliasTable;
}

/**
 * Builds a reproducible synthetic world: users with MovieLens-like demographics, movies with
 * TMDB-like side information and `title+year` slugs, and the hidden taste model behind them.
 * Same options, same world.
 *
 *     const world = createWorld({ users: 5000, movies: 2000, seed: 42 });
 *     world.movies[0].id // => "the+silent+river+1994"
 */
export function createWorld(options: WorldOptions): World {
  const opts = parseOrThrow(WorldOptionsSchema, options, "createWorld options", SIM_ERRORS.badOptions);
  const rng = createRng(opts.seed);
  const pop = makePopulation(rng.fork("users"), opts.users);
  const drafts = makeMovieDrafts(rng.fork("movies"), opts.movies);
  const truth = makeTruth(rng.fork("truth"), pop, drafts, opts);
  const sideRng = rng.fork("side");
  const movies: Movie[] = drafts.map((d, i) => {
    const quality = truth.globalMean + truth.movieBias[i]!;
    return {
      id: d.id,
      title: d.title,
      genres: d.genres.map((g) => ({ id: GENRES[g]!.id, name: GENRES[g]!.name })),
      release_date: d.releaseDate,
      runtime: d.runtime,
      popularity: Math.round(d.popularity * 10_000) / 1000,
      vote_average: Math.round(clamp(2 * quality - 0.8 + 0.5 * sideRng.normal(), 1, 10) * 10) / 10,
      vote_count: Math.round(d.popularity * 300 * Math.exp(0.5 * sideRng.normal())),
      original_language: d.language,
    };
  });
  const listedUser = pickListed(rng.fork("unlisted-users"), opts.users, opts.unlistedShare, null);
  const listedMovie = pickListed(rng.fork("unlisted-movies"), opts.movies, opts.unlistedShare, truth.popularity);
  return {
    options: opts,
    users: pop.users,
    movies,
    truth,
    userIndex: new Map(pop.users.map((u, i) => [u.user_id, i])),
    movieIndex: new Map(movies.map((m, i) => [m.id, i])),
    movieIds: movies.map((m) => m.id),
    runtime: Uint16Array.from(drafts, (d) => d.runtime),
    listedUser,
    listedMovie,
    browse: aliasTable(truth.popularity),
    traffic: aliasTable(truth.activity),
  };
}

/**
 * Marks a share of ids as missing from the side files. Movies are picked among the less popular
 * half so one unlisted blockbuster cannot flood the stream with unknown ids.
 */
function pickListed(rng: Rng, n: number, share: number, popularity: Float32Array | null): Uint8Array {
  const listed = new Uint8Array(n).fill(1);
  const count = Math.round(n * share);
  let median = Infinity;
  if (popularity) median = Float32Array.from(popularity).sort()[Math.floor(n / 2)]!;
  for (let placed = 0, guard = 0; placed < count && guard < 100 * n; guard++) {
    const i = rng.int(n);
    if (!listed[i] || (popularity && popularity[i]! > median)) continue;
    listed[i] = 0;
    placed++;
  }
  return listed;
}

/** The index of a user id, or an error naming the id. */
export function userIndexOf(world: World, userId: number): number {
  const u = world.userIndex.get(userId);
  if (u === undefined) throw unknownIdError("user", userId);
  return u;
}

/** The index of a movie slug, or an error naming the slug. */
export function movieIndexOf(world: World, movieId: string): number {
  const i = world.movieIndex.get(movieId);
  if (i === undefined) throw unknownIdError("movie", movieId);
  return i;
}
