/**
 * The three line kinds of the site's event stream (see shared/BRIEF.md). Every producer
 * (simulator, API, router) formats through these so the stream stays one format.
 *
 *     <time>,<userid>,GET /data/m/<movieid>/<minute>.mpg
 *     <time>,<userid>,GET /rate/<movieid>=<rating>
 *     <time>,<userid>,recommendation request <server>, status <code>, result: <recs>, <ms> ms
 */

/** ISO 8601 without zone and with microseconds, as the real stream writes it. */
export function formatEventTime(ms: number): string {
  return new Date(ms).toISOString().slice(0, 23) + "000";
}

export function formatWatchLine(timeMs: number, userId: number, movieId: string, minute: number): string {
  return `${formatEventTime(timeMs)},${userId},GET /data/m/${movieId}/${minute}.mpg`;
}

export function formatRateLine(timeMs: number, userId: number, movieId: string, rating: number): string {
  return `${formatEventTime(timeMs)},${userId},GET /rate/${movieId}=${rating}`;
}

/** `result` is the list of returned ids on status 200, or an error text otherwise. */
export function formatRequestLine(
  timeMs: number,
  userId: number | string,
  server: string,
  status: number,
  result: readonly string[] | string,
  latencyMs: number,
): string {
  const body = typeof result === "string" ? result : result.join(", ");
  return `${formatEventTime(timeMs)},${userId},recommendation request ${server}, status ${status}, result: ${body}, ${Math.round(latencyMs)} ms`;
}
