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

export interface DirtCounts {
  truncated: number;
  malformed: number;
  duplicate: number;
  clockSkew: number;
  ratingOutOfRange: number;
  /** Well-formed lines whose user or movie is missing from users.jsonl / movies.jsonl. */
  unlistedId: number;
}

const BAD_RATINGS = [0, 6, 10] as const;
const MALFORM = [
  (l: string) => l.replace(/^[^,]*/, (t) => t.replace("T", " ").replaceAll("-", "/")), // foreign time format
  (l: string) => l.replace(/,\d+,/, ",,"), // user id lost
  (l: string) => l.replace(/,(\d+),/, ",user$1,"), // user id not a number
  (l: string) => l.replaceAll(",", ";"), // wrong separator
  (l: string) => l.replace(/\/(\d+)\.mpg$/, "/.mpg").replace(/=\d+$/, "=").replace(/ \d+ ms$/, " ms"), // value lost
] as const;

/**
 * Formats the stream's lines through core's formatters and makes a small, counted share of them
 * dirty the way real streams are: truncated, malformed, duplicated nearby (retries), timestamps
 * slightly in the past (clock skew), ratings out of range. Every dirty line is counted by kind.
 */
export function createDirtyWriter(sink: LineSink, rng: Rng, listedUser: Uint8Array, listedMovie: Uint8Array) {
  const counts: DirtCounts = { truncated: 0, malformed: 0, duplicate: 0, clockSkew: 0, ratingOutOfRange: 0, unlistedId: 0 };
  const lines = { watch: 0, rate: 0, request: 0 };
  /** Well-formed in-range ratings by star (index 1..5). */
  const stars = [0, 0, 0, 0, 0, 0];
  // A duplicate is released after 0-2 further lines, like a client retry.
  let dupLine: string | null = null;
  let dupAfter = 0;
  let dupUnlisted = false;

  const skew = (t: number): number => {
    if (rng.next() >= DIRT.clockSkew) return t;
    counts.clockSkew++;
    return t - 1_000 - rng.int(DIRT.maxSkewMs);
  };

  const emit = (line: string, unlisted: boolean): boolean => {
    const x = rng.next();
    let clean = false;
    if (x < DIRT.truncated) {
      counts.truncated++;
      line = line.slice(0, 10 + rng.int(line.length - 13));
    } else if (x < DIRT.truncated + DIRT.malformed) {
      counts.malformed++;
      line = MALFORM[rng.int(MALFORM.length)]!(line);
    } else {
      clean = true;
      if (unlisted) counts.unlistedId++;
    }
    sink.push(line);
    if (dupLine !== null) {
      if (dupAfter-- <= 0) releaseDuplicate();
    } else if (clean && rng.next() < DIRT.duplicate) {
      dupLine = line;
      dupUnlisted = unlisted;
      dupAfter = rng.int(3);
      if (dupAfter-- <= 0) releaseDuplicate();
    }
    return clean;
  };

  const releaseDuplicate = (): void => {
    sink.push(dupLine!);
    counts.duplicate++;
    if (dupUnlisted) counts.unlistedId++;
    dupLine = null;
  };

  return {
    counts,
    lines,
    stars,
    watch(t: number, u: number, i: number, movieId: string, minute: number): void {
      lines.watch++;
      emit(formatWatchLine(skew(t), u + 1, movieId, minute), !listedUser[u] || !listedMovie[i]);
    },
    rate(t: number, u: number, i: number, movieId: string, rating: number): void {
      lines.rate++;
      if (rng.next() < DIRT.ratingOutOfRange) {
        counts.ratingOutOfRange++;
        sink.push(formatRateLine(t, u + 1, movieId, BAD_RATINGS[rng.int(BAD_RATINGS.length)]!));
        return;
      }
      if (emit(formatRateLine(skew(t), u + 1, movieId, rating), !listedUser[u] || !listedMovie[i])) stars[rating]!++;
    },
    request(t: number, u: number, server: string, status: number, result: readonly string[] | string, latencyMs: number): void {
      lines.request++;
      emit(formatRequestLine(skew(t), u + 1, server, status, result, latencyMs), !listedUser[u]);
    },
    /** Emits a pending duplicate, if any, before the file is closed. */
    finish(): void {
      if (dupLine !== null) releaseDuplicate();
    },
  };
}
export type DirtyWriter = ReturnType<typeof createDirtyWriter>;
