import { formatRateLine, formatRequestLine, formatWatchLine, type Rng } from "@recsys/core";
import type { LineSink } from "./line-sink.ts";

/** Per-line chances of each kind of dirt, tuned to give ~1-2% dirty lines in total. */
export const DIRT = {
  truncated: 0.003,
  malformed: 0.002,
  duplicate: 0.004,
  clockSkew: 0.001,
  /** Share of rating lines whose stars are out of range (0, 6 or 10). */
  ratingOutOfRange: 0.03,
  maxSkewMs: 30_000,
} as const;

/**
 * The dirt each line carries, named as ingest reports it so the two can be compared:
 * `rejects` holds the lines ingest quarantines, by the reject code it gives them (its
 * quality.json `rejects`); the rest are well-formed lines ingest keeps and counts:
 * `outOfOrder` (its `outOfOrder.lines`: a time earlier than a kept line before it) and lines
 * whose user or movie is missing from the side files (its `users.unknown.lines`,
 * `movies.unknown.lines`; a line with both counts in both).
 */
export interface DirtCounts {
  rejects: Record<DirtReject, number>;
  outOfOrder: number;
  unknownUserLines: number;
  unknownMovieLines: number;
}

/** The ingest reject codes the simulator's dirt produces. */
export const DIRT_REJECTS = ["truncated", "bad_time", "bad_user_id", "bad_minute", "bad_request", "rating_out_of_range", "duplicate"] as const;
export type DirtReject = (typeof DIRT_REJECTS)[number];

type LineKind = "watch" | "rate" | "request";
const BAD_RATINGS = [0, 6, 10] as const;
/** Each malformation with the code ingest rejects it under (a lost value depends on the line kind). */
const MALFORM: ReadonlyArray<{ apply: (l: string) => string; code: (kind: LineKind) => DirtReject }> = [
  { apply: (l) => l.replace(/^[^,]*/, (t) => t.replace("T", " ").replaceAll("-", "/")), code: () => "bad_time" }, // foreign time format
  { apply: (l) => l.replace(/,\d+,/, ",,"), code: () => "bad_user_id" }, // user id lost
  { apply: (l) => l.replace(/,(\d+),/, ",user$1,"), code: () => "bad_user_id" }, // user id not a number
  { apply: (l) => l.replaceAll(",", ";"), code: () => "truncated" }, // wrong separator: one field
  { // value lost: `/.mpg` is a bad minute, `=` an action cut short, ` ms` a bad request
    apply: (l) => l.replace(/\/(\d+)\.mpg$/, "/.mpg").replace(/=\d+$/, "=").replace(/ \d+ ms$/, " ms"),
    code: (kind) => (kind === "watch" ? "bad_minute" : kind === "rate" ? "truncated" : "bad_request"),
  },
];

/**
 * Formats the stream's lines through core's formatters and makes a small, counted share of them
 * dirty the way real streams are: truncated, malformed, duplicated nearby (retries), timestamps
 * slightly in the past (clock skew), ratings out of range. Every dirty line is counted under the
 * name ingest reports it by (DirtCounts).
 */
export function createDirtyWriter(sink: LineSink, rng: Rng, listedUser: Uint8Array, listedMovie: Uint8Array) {
  const counts: DirtCounts = {
    rejects: Object.fromEntries(DIRT_REJECTS.map((c) => [c, 0])) as Record<DirtReject, number>,
    outOfOrder: 0, unknownUserLines: 0, unknownMovieLines: 0,
  };
  const lines = { watch: 0, rate: 0, request: 0 };
  /** Well-formed in-range ratings by star (index 1..5). */
  const stars = [0, 0, 0, 0, 0, 0];
  // A duplicate is released after 0-2 further lines, like a client retry.
  let dupLine: string | null = null;
  let dupAfter = 0;
  /** Latest time of the lines ingest keeps: a kept line earlier than this is out of order, as ingest counts it. */
  let latestKept = -Infinity;

  const skew = (t: number): number => (rng.next() < DIRT.clockSkew ? t - 1_000 - rng.int(DIRT.maxSkewMs) : t);

  const emit = (kind: LineKind, t: number, line: string, unlistedUser: boolean, unlistedMovie: boolean): boolean => {
    const x = rng.next();
    let clean = false;
    if (x < DIRT.truncated) {
      counts.rejects.truncated++;
      line = line.slice(0, 10 + rng.int(line.length - 13));
    } else if (x < DIRT.truncated + DIRT.malformed) {
      const m = MALFORM[rng.int(MALFORM.length)]!;
      counts.rejects[m.code(kind)]++;
      line = m.apply(line);
    } else {
      clean = true;
      if (unlistedUser) counts.unknownUserLines++;
      if (unlistedMovie) counts.unknownMovieLines++;
      if (t < latestKept) counts.outOfOrder++;
      else latestKept = t;
    }
    sink.push(line);
    if (dupLine !== null) tickDuplicate();
    else if (clean && rng.next() < DIRT.duplicate) {
      dupLine = line;
      dupAfter = rng.int(3);
      if (dupAfter-- <= 0) releaseDuplicate();
    }
    return clean;
  };

  /** One more line went out: a pending duplicate is released once its 0-2 lines have passed. */
  const tickDuplicate = (): void => {
    if (dupLine !== null && dupAfter-- <= 0) releaseDuplicate();
  };

  // Ingest rejects the copy as a duplicate before it looks at its ids or time: counted only as that.
  const releaseDuplicate = (): void => {
    sink.push(dupLine!);
    counts.rejects.duplicate++;
    dupLine = null;
  };

  return {
    counts,
    lines,
    stars,
    watch(t: number, u: number, i: number, movieId: string, minute: number): void {
      lines.watch++;
      const at = skew(t);
      emit("watch", at, formatWatchLine(at, u + 1, movieId, minute), !listedUser[u], !listedMovie[i]);
    },
    rate(t: number, u: number, i: number, movieId: string, rating: number): void {
      lines.rate++;
      if (rng.next() < DIRT.ratingOutOfRange) {
        counts.rejects.rating_out_of_range++;
        sink.push(formatRateLine(t, u + 1, movieId, BAD_RATINGS[rng.int(BAD_RATINGS.length)]!));
        // It counts as one of the lines a retry comes after, or a copy could drift past ingest's window.
        tickDuplicate();
        return;
      }
      const at = skew(t);
      if (emit("rate", at, formatRateLine(at, u + 1, movieId, rating), !listedUser[u], !listedMovie[i])) stars[rating]!++;
    },
    request(t: number, u: number, server: string, status: number, result: readonly string[] | string, latencyMs: number): void {
      lines.request++;
      const at = skew(t);
      // Ingest checks only the user of a request line (the result's ids are not catalogue entries).
      emit("request", at, formatRequestLine(at, u + 1, server, status, result, latencyMs), !listedUser[u], false);
    },
    /** Emits a pending duplicate, if any, before the file is closed. */
    finish(): void {
      if (dupLine !== null) releaseDuplicate();
    },
  };
}
export type DirtyWriter = ReturnType<typeof createDirtyWriter>;
