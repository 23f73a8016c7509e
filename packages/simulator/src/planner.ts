import type { Rng } from "@recsys/core";
import { browsePick, chooseFromList, watchOutcome } from "./choice.ts";
import { pickWeighted, poisson } from "./sampling.ts";
import { PHASE, type SessionQueue } from "./schedule.ts";
import { drawRating } from "./truth.ts";
import type { World } from "./world.ts";

/** How much traffic the site sees; rates are per user of average activity. */
export const TRAFFIC = {
  watchesPerDay: 0.4,
  /**
   * Ratings of movies seen elsewhere or earlier: rating lines without watch lines. As on MovieLens
   * (ml-100k ~106 ratings a user, ml-latest-small ~165), users rate much of what they have seen, so
   * at 2.5 a day for an average user a 30-day world holds ~77 ratings a user (median ~53, long-tailed
   * by activity): enough taste for factor models to beat the biases-only baseline clearly. At 0.15
   * (~9 a user) they could not, and the gate refused the default model.
   */
  rateOnlyPerDay: 2.5,
  /** Share of watches that start from a recommendation request to the legacy service. */
  requestShare: 0.35,
  timeoutShare: 0.012,
  listLength: 20,
  /** Minutes between two sessions of one user on one day: uniform in [min, min + spread). */
  gapMinutes: { min: 2, spread: 40 },
} as const;

/** Relative traffic per UTC hour: quiet nights, an evening peak. */
const HOURLY = [3, 2, 1.5, 1, 1, 1, 1.5, 2, 3, 3.5, 4, 4.5, 5, 5, 5, 5, 5.5, 6, 7, 8, 9, 9, 7, 5];
const HOUR_MS = 3_600_000;
const MINUTE_MS = 60_000;

/**
 * Fills the session queue with one day of sessions, user by user: how often a user comes is
 * Poisson in their activity; a watch starts from the legacy service's list (a popularity sample)
 * or from browsing; what is watched and rated follows the choice model. Movies a user already
 * watched or rated are avoided, as people rarely re-watch (a Set of user*movies+movie keys: one
 * number per session, not per line).
 */
export function createDayPlanner(world: World, queue: SessionQueue, rng: Rng) {
  const nMovies = world.movies.length;
  const seen = new Set<number>();
  const activity = world.truth.activity;

  const unseenBrowse = (u: number): number => {
    let i = browsePick(world, u, rng);
    for (let tries = 0; tries < 4 && seen.has(u * nMovies + i); tries++) i = browsePick(world, u, rng);
    return i;
  };

  const legacyList = (): Int32Array => {
    const list = new Int32Array(TRAFFIC.listLength);
    for (let n = 0; n < list.length; ) {
      const i = world.browse.sample(rng);
      if (!list.subarray(0, n).includes(i)) list[n++] = i;
    }
    return list.sort((a, b) => world.truth.popularity[b]! - world.truth.popularity[a]! || a - b);
  };

  /** Schedules one watch by user u from time t; returns when the user is free again. */
  const planWatch = (u: number, t: number): number => {
    const slot = queue.alloc();
    const pool = queue.pool;
    let movie = -1;
    pool.recs[slot] = null;
    pool.phase[slot] = PHASE.watch;
    pool.time[slot] = t;
    if (rng.next() < TRAFFIC.requestShare) {
      const recs = legacyList();
      const timeout = rng.next() < TRAFFIC.timeoutShare;
      pool.recs[slot] = recs;
      pool.status[slot] = timeout ? 0 : 200;
      pool.latency[slot] = timeout ? 800 : Math.round(40 * Math.exp(0.6 * rng.normal()));
      pool.phase[slot] = PHASE.request;
      pool.watchStart[slot] = t + 3_000 + rng.int(30_000);
      if (!timeout) {
        const p = chooseFromList(world, u, recs, rng);
        if (p >= 0 && !seen.has(u * nMovies + recs[p]!)) movie = recs[p]!;
      }
    }
    if (movie < 0) movie = unseenBrowse(u);
    seen.add(u * nMovies + movie);
    const outcome = watchOutcome(world, u, movie, rng);
    pool.user[slot] = u;
    pool.movie[slot] = movie;
    pool.minute[slot] = 1;
    pool.minutes[slot] = outcome.minutes;
    pool.rating[slot] = outcome.rating;
    queue.push(slot);
    return t + 60_000 + outcome.minutes * MINUTE_MS + (TRAFFIC.gapMinutes.min + rng.int(TRAFFIC.gapMinutes.spread)) * MINUTE_MS;
  };

  const planRating = (u: number, t: number): void => {
    const movie = unseenBrowse(u);
    seen.add(u * nMovies + movie);
    const slot = queue.alloc();
    const pool = queue.pool;
    pool.recs[slot] = null;
    pool.phase[slot] = PHASE.rate;
    pool.time[slot] = t;
    pool.user[slot] = u;
    pool.movie[slot] = movie;
    pool.rating[slot] = drawRating(world.truth, u, movie, rng);
    queue.push(slot);
  };

  const timeOfDay = (): number => pickWeighted(rng, HOURLY) * HOUR_MS + rng.int(HOUR_MS);

  return {
    /** Adds every session that starts on the day beginning at `dayStart` (ms). */
    planDay(dayStart: number): void {
      for (let u = 0; u < activity.length; u++) {
        const a = activity[u]!;
        let watches = poisson(rng, TRAFFIC.watchesPerDay * a);
        let t = dayStart + timeOfDay();
        while (watches-- > 0) t = planWatch(u, t);
        let ratings = poisson(rng, TRAFFIC.rateOnlyPerDay * a);
        while (ratings-- > 0) planRating(u, dayStart + timeOfDay());
      }
    },
  };
}
