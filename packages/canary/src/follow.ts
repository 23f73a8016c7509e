import type { RequestRecord, WatchRecord } from "./records.ts";

/**
 * Each user's viewings in time order, as parallel arrays (no object per watch), and the times of
 * that user's requests (those of users with viewings only), sorted.
 */
export interface WatchIndex {
  byUser: Map<number, { times: Float64Array; movies: string[]; requestTimes: Float64Array }>;
}

/**
 * Indexes the watches that started in [fromMs, toMs): only those can follow a request of the
 * window, so a long log costs one filter pass and a sort per user. `requests` are all the
 * requests known (every release's): a user's next request closes the previous one's window.
 */
export function indexWatches(watches: readonly WatchRecord[], fromMs: number, toMs: number, requests: readonly RequestRecord[]): WatchIndex {
  const grouped = new Map<number, WatchRecord[]>();
  for (const w of watches) {
    if (w.timeMs < fromMs || w.timeMs >= toMs) continue;
    let list = grouped.get(w.userId);
    if (!list) grouped.set(w.userId, (list = []));
    list.push(w);
  }
  const asked = new Map<number, number[]>();
  for (const r of requests) {
    if (!grouped.has(r.userId)) continue;
    const times = asked.get(r.userId);
    if (times) times.push(r.timeMs);
    else asked.set(r.userId, [r.timeMs]);
  }
  const byUser: WatchIndex["byUser"] = new Map();
  for (const [userId, list] of grouped) {
    list.sort((a, b) => a.timeMs - b.timeMs);
    const requestTimes = Float64Array.from(asked.get(userId) ?? []).sort();
    byUser.set(userId, { times: Float64Array.from(list, (w) => w.timeMs), movies: list.map((w) => w.movieId), requestTimes });
  }
  return { byUser };
}

/** First index in ascending `a` whose value is >= x (or > x when `strictly`). */
function lowerBound(a: Float64Array, x: number, strictly = false): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid]! < x || (strictly && a[mid] === x)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Whether the user started one of the recommended movies within `followWindowMs` after the
 * request (inclusive at both ends: a watch logged in the same millisecond counts) and before
 * their next request: a watch follows the last list the user was shown, never an earlier one. (A
 * window longer than the time between one user's visits would otherwise count a later list's
 * success for every list before it, and hide a canary that serves worse lists.)
 */
export function isFollowed(index: WatchIndex, request: RequestRecord, followWindowMs: number): boolean {
  const user = index.byUser.get(request.userId);
  if (!user) return false;
  const end = request.timeMs + followWindowMs;
  // The user's next request strictly later (one in the same millisecond shares the window): a
  // watch at or after it belongs to the list it got.
  const next = user.requestTimes[lowerBound(user.requestTimes, request.timeMs, true)] ?? Infinity;
  for (let i = lowerBound(user.times, request.timeMs); i < user.times.length && user.times[i]! <= end && user.times[i]! < next; i++) {
    // Result lists hold at most 20 ids: a scan beats building a Set per request.
    if (request.movieIds.includes(user.movies[i]!)) return true;
  }
  return false;
}
