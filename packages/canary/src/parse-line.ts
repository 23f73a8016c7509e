import { newScratch, parseEventInto } from "@recsys/ingest";

/**
 * One stream line as the analysis needs it. Parsing is ingestion's (the same rules and reject
 * reasons as the dataset); ratings are recognised and passed over: the analysis does not use them.
 */
export type StreamLine =
  | { kind: "watch"; timeMs: number; userId: number; movieId: string; minute: number }
  | { kind: "request"; timeMs: number; userId: number; server: string; status: number; latencyMs: number; movieIds: string[] }
  | { kind: "rate" }
  | { kind: "bad"; reason: string };

/** Same rule as core MovieIdSchema, as a bare regex for per-row checks. */
export const MOVIE_ID = /^[^\s,/]{1,300}$/;

const scratch = newScratch();

/**
 * Parses one event line (without its newline).
 *
 *     parseStreamLine("2022-02-08T18:06:56,7,GET /data/m/up+2009/0.mpg")
 *     // { kind: "watch", timeMs: 1644343616000, userId: 7, movieId: "up+2009", minute: 0 }
 */
export function parseStreamLine(line: string): StreamLine {
  const reject = parseEventInto(line, scratch);
  if (reject !== null) return { kind: "bad", reason: reject };
  const timeMs = Math.floor(scratch.time / 1000);
  const { userId } = scratch;
  if (scratch.kind === "watch") return { kind: "watch", timeMs, userId, movieId: scratch.movieId, minute: scratch.minute };
  if (scratch.kind === "rate") return { kind: "rate" };
  return {
    kind: "request", timeMs, userId, server: scratch.server, status: scratch.status,
    latencyMs: scratch.latencyMs, movieIds: scratch.resultIds ?? [],
  };
}
