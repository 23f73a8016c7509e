import type { RejectReason } from "./errors.ts";
import { formatEventTimeUs, parseEventTime } from "./event-time.ts";

/**
 * The stream's three line kinds (shared/BRIEF.md, core event-format.ts), split by hand rather
 * than with csv-parse: request lines hold unquoted commas inside their last field
 * (`status 200, result: a, b, 12 ms`), which a CSV parser would cut into a varying number of
 * columns, and the hand splitter does the whole line in one pass without a per-line array.
 */
export type ParsedEvent =
  | { kind: "watch"; time: string; userId: number; movieId: string; minute: number }
  | { kind: "rate"; time: string; userId: number; movieId: string; rating: number }
  | { kind: "request"; time: string; userId: number; server: string; status: number; latencyMs: number; result: string };

/** Mutable scratch record the hot loop reuses, so a line costs no object of its own. */
export interface EventScratch {
  kind: "watch" | "rate" | "request";
  /** Microseconds since the epoch (event-time.ts). */
  time: number;
  userId: number;
  movieId: string;
  minute: number;
  rating: number;
  server: string;
  status: number;
  latencyMs: number;
  /** Request result: ids joined by "|" on status 200, the error text otherwise. */
  result: string;
}

export function newScratch(): EventScratch {
  return { kind: "watch", time: 0, userId: 0, movieId: "", minute: 0, rating: 0, server: "", status: 0, latencyMs: 0, result: "" };
}

/** Minutes count from 0; a watch minute past a day is a corrupted counter, not a film. */
export const MAX_MINUTE = 1439;
export const MAX_USER_ID = 2 ** 32 - 1;
const MAX_MOVIE_ID_LENGTH = 300;

const WATCH = "GET /data/m/";
const RATE = "GET /rate/";
const REQUEST = "recommendation request ";
const NUMBER = /^\d+(\.\d+)?$/;

/** A numeric id (user ids, MovieLens ids): 1-10 digits, at most 2^32-1 (the pair key packs a user id beside a movie index); -1 when invalid. */
export function parseId(s: string): number {
  const n = s.length;
  if (n === 0 || n > 10) return -1;
  let v = 0;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return -1;
    v = v * 10 + c;
  }
  return v <= MAX_USER_ID ? v : -1;
}

/** A movie id is a slug: 1-300 characters, none of them whitespace, comma or slash (core MovieIdSchema). */
export function isMovieId(s: string): boolean {
  const n = s.length;
  if (n === 0 || n > MAX_MOVIE_ID_LENGTH) return false;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c <= 32 || c === 44 || c === 47 || c === 0x85 || c === 0xa0 || (c >= 0x2000 && c <= 0x200a) || c === 0x2028 || c === 0x2029 || c === 0x3000) return false;
  }
  return true;
}

function parseWatch(action: string, out: EventScratch): RejectReason | null {
  const n = action.length;
  if (!action.endsWith(".mpg")) return "truncated";
  const slash = action.lastIndexOf("/", n - 5);
  if (slash < WATCH.length) return "bad_minute";
  out.movieId = action.slice(WATCH.length, slash);
  if (!isMovieId(out.movieId)) return "bad_movie_id";
  const digits = n - 4 - (slash + 1);
  if (digits < 1 || digits > 4) return "bad_minute";
  let minute = 0;
  for (let i = slash + 1; i < n - 4; i++) {
    const c = action.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return "bad_minute";
    minute = minute * 10 + c;
  }
  if (minute > MAX_MINUTE) return "bad_minute";
  out.kind = "watch";
  out.minute = minute;
  return null;
}

function parseRate(action: string, out: EventScratch): RejectReason | null {
  const eq = action.lastIndexOf("=");
  if (eq < RATE.length || eq === action.length - 1) return "truncated";
  out.movieId = action.slice(RATE.length, eq);
  if (!isMovieId(out.movieId)) return "bad_movie_id";
  const text = action.slice(eq + 1);
  if (!NUMBER.test(text)) return "bad_rating";
  const rating = Number(text);
  if (rating < 1 || rating > 5) return "rating_out_of_range";
  out.kind = "rate";
  out.rating = rating;
  return null;
}

function parseRequest(action: string, out: EventScratch): RejectReason | null {
  const n = action.length;
  if (!action.endsWith(" ms")) return "truncated";
  const s = action.indexOf(", status ", REQUEST.length);
  const r = s < 0 ? -1 : action.indexOf(", result: ", s + 9);
  const l = action.lastIndexOf(", ", n - 4);
  // l < r + 10: the last ", " is the one inside ", result: " itself, so no latency field.
  if (s <= REQUEST.length || r < 0 || l < r + 10) return "bad_request";
  const status = action.slice(s + 9, r);
  const latency = action.slice(l + 2, n - 3);
  if (status.length > 3 || !/^\d+$/.test(status) || !NUMBER.test(latency)) return "bad_request";
  out.server = action.slice(REQUEST.length, s);
  if (out.server.includes(",")) return "bad_request";
  out.status = Number(status);
  out.latencyMs = Number(latency);
  const body = action.slice(r + 10, l);
  if (out.status === 200) {
    const ids = body === "" ? [] : body.split(",").map((id) => id.trim());
    if (!ids.every(isMovieId)) return "bad_request";
    out.result = ids.join("|");
  } else {
    out.result = body;
  }
  out.kind = "request";
  return null;
}

function isPrefixOfKind(action: string): boolean {
  return WATCH.startsWith(action) || RATE.startsWith(action) || REQUEST.startsWith(action);
}

/**
 * Parses one line into `out` and returns null, or returns why the line is rejected. The
 * hot-loop form of parseEventLine: no allocation beyond the field slices.
 */
export function parseEventInto(line: string, out: EventScratch): RejectReason | null {
  const c1 = line.indexOf(",");
  const c2 = c1 < 0 ? -1 : line.indexOf(",", c1 + 1);
  if (c2 < 0) return "truncated";
  const time = parseEventTime(line.slice(0, c1));
  if (Number.isNaN(time)) return "bad_time";
  const userId = parseId(line.slice(c1 + 1, c2));
  if (userId < 0) return "bad_user_id";
  out.time = time;
  out.userId = userId;
  const action = line.slice(c2 + 1);
  if (action.startsWith(WATCH)) return parseWatch(action, out);
  if (action.startsWith(RATE)) return parseRate(action, out);
  if (action.startsWith(REQUEST)) return parseRequest(action, out);
  return isPrefixOfKind(action) ? "truncated" : "unknown_kind";
}

/**
 * Parses one event line (without its newline) into a typed event, or says why it is rejected.
 * Times come back normalised to `YYYY-MM-DDTHH:MM:SS.ffffff`.
 *
 *     parseEventLine("2022-02-08T18:06:56,7,GET /rate/the+godfather+1972=5")
 *     // { kind: "rate", time: "2022-02-08T18:06:56.000000", userId: 7, movieId: "the+godfather+1972", rating: 5 }
 *     parseEventLine("2022-02-08T18:06:56,7,GET /rate/the+godfather+1972=9") // { reject: "rating_out_of_range" }
 */
export function parseEventLine(line: string): ParsedEvent | { reject: RejectReason } {
  const s = newScratch();
  const reject = parseEventInto(line, s);
  if (reject) return { reject };
  const time = formatEventTimeUs(s.time);
  const userId = s.userId;
  if (s.kind === "watch") return { kind: "watch", time, userId, movieId: s.movieId, minute: s.minute };
  if (s.kind === "rate") return { kind: "rate", time, userId, movieId: s.movieId, rating: s.rating };
  return { kind: "request", time, userId, server: s.server, status: s.status, latencyMs: s.latencyMs, result: s.result };
}
