import type { RequestRecord, WatchRecord } from "./records.ts";

/** Each user's viewings in time order, as parallel arrays (no object per watch). */
export interface WatchIndex {
  byUser: Map<number, { times: Float64Array; movies: string[] }>;
}

/**
 * Indexes the watches that started in [fromMs, toMs): only those can follow a request of the
 * window, so a long log costs one filter pass and a sort per user.
 */
export function indexWatches(watches: readonly WatchRecord[], fromMs: number, toMs: number): WatchIndex {
  const grouped = new Map<number, WatchRecord[]>();
  for (const w of watches) {
    if (w.timeMs < fromMs || w.timeMs >= toMs) continue;
    let list = grouped.get(w.userId);
    if (!list) grouped.set(w.userId, (list = []));
    list.push(w);
  }
  const byUser: WatchIndex["byUser"] = new Map();
  for (const [userId, list] of grouped) {
    list.sort((a, b) => a.timeMs - b.timeMs);
    byUser.set(userId, { times: Float64Array.from(list, (w) => w.timeMs), movies: list.map((w) => w.movieId) });
  }
  return { byUser };
}

/** First index in ascending `a` whose value is >= x. */
function lowerBound(a: Float64Array, x: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Whether the user started one of the recommended movies within `followWindowMs` after the
 * request (inclusive at both ends: a watch logged in the same millisecond counts).
 */
export function isFollowed(index: WatchIndex, request: RequestRecord, followWindowMs: number): boolean {
  const user = index.byUser.get(request.userId);
  if (!user) return false;
  const end = request.timeMs + followWindowMs;
  for (let i = lowerBound(user.times, request.timeMs); i < user.times.length && user.times[i]! <= end; i++) {
    // Result lists hold at most 20 ids: a scan beats building a Set per request.
    if (request.movieIds.includes(user.movies[i]!)) return true;
  }
  return false;
}
