/**
 * The two record kinds the analysis works on, whatever file they came from: one per served
 * recommendation request, and one per started viewing of a movie.
 */
export interface RequestRecord {
  /** Milliseconds since the epoch (UTC). */
  timeMs: number;
  userId: number;
  /** The release that served the request (telemetry `release`, or the stream's `<server>` mapped). */
  release: string;
  /** HTTP status; 0 = no answer (timeout, connection error). See isSuccess. */
  status: number;
  latencyMs: number;
  /** Returned movie ids, best first; empty when the request failed. */
  movieIds: string[];
}

/**
 * Availability counts a request as failed when the service gave no answer (status 0: timeout,
 * refused connection) or a server error (5xx), as Flagger's success rate does; a 4xx is the
 * caller's mistake (a malformed user id), answered correctly.
 */
export function isSuccess(status: number): boolean {
  return status >= 100 && status < 500;
}

export interface WatchRecord {
  timeMs: number;
  userId: number;
  movieId: string;
}

/** What a loader read: good records, plus how many lines it skipped and why. */
export interface LoadStats {
  lines: number;
  requests: number;
  watches: number;
  /** Lines of a kind the analysis does not use (ratings, repeated watch minutes). */
  ignored: number;
  bad: number;
  badByReason: Record<string, number>;
  /** The first few bad lines as `file:line: reason`, for the user to look at. */
  badExamples: string[];
}

export function emptyLoadStats(): LoadStats {
  return { lines: 0, requests: 0, watches: 0, ignored: 0, bad: 0, badByReason: {}, badExamples: [] };
}

const MAX_BAD_EXAMPLES = 5;

export function countBad(stats: LoadStats, reason: string, where: string): void {
  stats.bad++;
  stats.badByReason[reason] = (stats.badByReason[reason] ?? 0) + 1;
  if (stats.badExamples.length < MAX_BAD_EXAMPLES) stats.badExamples.push(`${where}: ${reason}`);
}

export function mergeLoadStats(into: LoadStats, from: LoadStats): void {
  into.lines += from.lines;
  into.requests += from.requests;
  into.watches += from.watches;
  into.ignored += from.ignored;
  into.bad += from.bad;
  for (const [reason, n] of Object.entries(from.badByReason)) into.badByReason[reason] = (into.badByReason[reason] ?? 0) + n;
  for (const e of from.badExamples) if (into.badExamples.length < MAX_BAD_EXAMPLES) into.badExamples.push(e);
}
