import { parseTimeMs } from "./time.ts";

/**
 * One stream line, checked by hand: request lines hold unquoted commas inside their last field
 * (`status 200, result: a, b, 12 ms`), so a CSV parser would cut them into a varying number of
 * columns. Ratings are recognised and passed over: the analysis does not use them.
 */
export type StreamLine =
  | { kind: "watch"; timeMs: number; userId: number; movieId: string; minute: number }
  | { kind: "request"; timeMs: number; userId: number; server: string; status: number; latencyMs: number; movieIds: string[] }
  | { kind: "rate" }
  | { kind: "bad"; reason: string };

const WATCH = "GET /data/m/";
const RATE = "GET /rate/";
const REQUEST = "recommendation request ";
const USER_ID = /^\d{1,10}$/;
/** Same rule as core MovieIdSchema, as a bare regex for the per-line hot path. */
export const MOVIE_ID = /^[^\s,/]{1,300}$/;
const MINUTE = /^\d{1,4}$/;
const STATUS = /^\d{1,3}$/;
const LATENCY = /^\d+(\.\d+)?$/;

function bad(reason: string): StreamLine {
  return { kind: "bad", reason };
}

function parseWatch(timeMs: number, userId: number, action: string): StreamLine {
  if (!action.endsWith(".mpg")) return bad("truncated");
  const slash = action.lastIndexOf("/");
  const movieId = action.slice(WATCH.length, slash);
  const minute = action.slice(slash + 1, -4);
  if (slash < WATCH.length || !MOVIE_ID.test(movieId)) return bad("bad_movie_id");
  if (!MINUTE.test(minute)) return bad("bad_minute");
  return { kind: "watch", timeMs, userId, movieId, minute: Number(minute) };
}

function parseRequest(timeMs: number, userId: number, action: string): StreamLine {
  if (!action.endsWith(" ms")) return bad("truncated");
  const s = action.indexOf(", status ", REQUEST.length);
  const r = s < 0 ? -1 : action.indexOf(", result: ", s + 9);
  const l = action.lastIndexOf(", ", action.length - 4);
  // l < r + 10: the last ", " is the one inside ", result: " itself, so there is no latency field.
  if (s <= REQUEST.length || r < 0 || l < r + 10) return bad("bad_request");
  const status = action.slice(s + 9, r);
  const latency = action.slice(l + 2, -3);
  if (!STATUS.test(status) || !LATENCY.test(latency)) return bad("bad_request");
  const code = Number(status);
  const body = action.slice(r + 10, l);
  const movieIds = code === 200 && body !== "" ? body.split(",").map((id) => id.trim()) : [];
  if (!movieIds.every((id) => MOVIE_ID.test(id))) return bad("bad_movie_id");
  return { kind: "request", timeMs, userId, server: action.slice(REQUEST.length, s), status: code, latencyMs: Number(latency), movieIds };
}

/**
 * Parses one event line (without its newline).
 *
 *     parseStreamLine("2022-02-08T18:06:56,7,GET /data/m/up+2009/0.mpg")
 *     // { kind: "watch", timeMs: 1644343616000, userId: 7, movieId: "up+2009", minute: 0 }
 */
export function parseStreamLine(line: string): StreamLine {
  const c1 = line.indexOf(",");
  const c2 = c1 < 0 ? -1 : line.indexOf(",", c1 + 1);
  if (c2 < 0) return bad("truncated");
  const timeMs = parseTimeMs(line.slice(0, c1));
  if (Number.isNaN(timeMs)) return bad("bad_time");
  const user = line.slice(c1 + 1, c2);
  if (!USER_ID.test(user)) return bad("bad_user_id");
  const action = line.slice(c2 + 1);
  if (action.startsWith(WATCH)) return parseWatch(timeMs, Number(user), action);
  if (action.startsWith(REQUEST)) return parseRequest(timeMs, Number(user), action);
  if (action.startsWith(RATE)) return { kind: "rate" };
  return bad("unknown_kind");
}
