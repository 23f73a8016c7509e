import { MovieIdSchema, onRatingScale, STREAM_RATING_SCALE, UserIdSchema } from "@recsys/core";
import { z } from "zod";
import type { RejectReason } from "./errors.ts";
import { formatEventTimeUs, parseEventTime } from "@recsys/core";

/**
 * The stream's three line kinds (shared/BRIEF.md, core event-format.ts). Lines are split by
 * hand rather than with csv-parse: request lines hold unquoted commas inside their last field
 * (`status 200, result: a, b, 12 ms`), which a CSV parser would cut into a varying number of
 * columns, and the splitter does a line in one pass with no per-line field array. It only
 * takes the line apart; what the values may be is the zod schema below, which every line
 * passes (about 0.3 µs a line, measured: see README).
 */
export type ParsedEvent =
  | { kind: "watch"; time: string; userId: number; movieId: string; minute: number }
  | { kind: "rate"; time: string; userId: number; movieId: string; rating: number }
  | { kind: "request"; time: string; userId: number; server: string; status: number; latencyMs: number; result: string };

/** Minutes count from 0; a watch minute past a day is a corrupted counter, not a film. */
export const MAX_MINUTE = 1439;
/** The pair tables pack a user id beside a movie index, so ids stay below 2^32. */
export const MAX_USER_ID = 2 ** 32 - 1;

const userId = UserIdSchema.max(MAX_USER_ID);
/**
 * The value rules of an event line; an issue's first path element names the reject reason.
 * A rating must be on the stream's scale, whole stars 1..5 (the brief), as the manifest records it.
 */
const EventValuesSchema = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("watch"), userId, movieId: MovieIdSchema, minute: z.number().int().min(0).max(MAX_MINUTE) }),
  z.object({ kind: z.literal("rate"), userId, movieId: MovieIdSchema, rating: z.number().refine((r) => onRatingScale(STREAM_RATING_SCALE, r)) }),
  z.object({
    kind: z.literal("request"), userId, server: z.string().min(1).regex(/^[^,]*$/), status: z.number().int().min(0).max(999),
    latencyMs: z.number().nonnegative(), resultIds: z.array(MovieIdSchema).nullable(),
  }),
]);
const REASON_BY_FIELD: Record<string, RejectReason> = {
  userId: "bad_user_id", movieId: "bad_movie_id", minute: "bad_minute", rating: "rating_out_of_range",
};

/** Mutable scratch record the hot loop reuses across lines. */
export interface EventScratch {
  kind: "watch" | "rate" | "request";
  /** Microseconds since the epoch (core event-time.ts). */
  time: number;
  userId: number;
  movieId: string;
  minute: number;
  rating: number;
  server: string;
  status: number;
  latencyMs: number;
  /** The returned ids of a status-200 request (checked, then joined into `result`); null otherwise. */
  resultIds: string[] | null;
  /** Request result: ids joined by "|" on status 200, the error text otherwise. */
  result: string;
}

export function newScratch(): EventScratch {
  return { kind: "watch", time: 0, userId: 0, movieId: "", minute: 0, rating: 0, server: "", status: 0, latencyMs: 0, resultIds: null, result: "" };
}

const WATCH = "GET /data/m/";
const RATE = "GET /rate/";
const REQUEST = "recommendation request ";
const DIGITS = /^\d{1,10}$/;
const NUMBER = /^\d+(\.\d+)?$/;

/** A numeric id (user ids, MovieLens ids): 1-10 digits, at most 2^32-1; -1 when invalid. */
export function parseId(s: string): number {
  if (!DIGITS.test(s)) return -1;
  const v = Number(s);
  return v <= MAX_USER_ID ? v : -1;
}

function splitWatch(action: string, out: EventScratch): RejectReason | null {
  const n = action.length;
  if (!action.endsWith(".mpg")) return "truncated";
  const slash = action.lastIndexOf("/", n - 5);
  if (slash < WATCH.length) return "bad_minute";
  const minute = action.slice(slash + 1, n - 4);
  if (!DIGITS.test(minute)) return "bad_minute";
  out.kind = "watch";
  out.movieId = action.slice(WATCH.length, slash);
  out.minute = Number(minute);
  return null;
}

function splitRate(action: string, out: EventScratch): RejectReason | null {
  const eq = action.lastIndexOf("=");
  if (eq < RATE.length || eq === action.length - 1) return "truncated";
  const rating = action.slice(eq + 1);
  if (!NUMBER.test(rating)) return "bad_rating";
  out.kind = "rate";
  out.movieId = action.slice(RATE.length, eq);
  out.rating = Number(rating);
  return null;
}

function splitRequest(action: string, out: EventScratch): RejectReason | null {
  const n = action.length;
  if (!action.endsWith(" ms")) return "truncated";
  const s = action.indexOf(", status ", REQUEST.length);
  const r = s < 0 ? -1 : action.indexOf(", result: ", s + 9);
  const l = action.lastIndexOf(", ", n - 4);
  // l < r + 10: the last ", " is the one inside ", result: " itself, so no latency field.
  if (s < 0 || r < 0 || l < r + 10) return "bad_request";
  const status = action.slice(s + 9, r);
  const latency = action.slice(l + 2, n - 3);
  if (!DIGITS.test(status) || !NUMBER.test(latency)) return "bad_request";
  out.kind = "request";
  out.server = action.slice(REQUEST.length, s);
  out.status = Number(status);
  out.latencyMs = Number(latency);
  const body = action.slice(r + 10, l);
  out.resultIds = out.status !== 200 ? null : body === "" ? [] : body.split(",").map((id) => id.trim());
  out.result = out.resultIds ? out.resultIds.join("|") : body;
  return null;
}

function isPrefixOfKind(action: string): boolean {
  return WATCH.startsWith(action) || RATE.startsWith(action) || REQUEST.startsWith(action);
}

function splitAction(action: string, out: EventScratch): RejectReason | null {
  if (action.startsWith(WATCH)) return splitWatch(action, out);
  if (action.startsWith(RATE)) return splitRate(action, out);
  if (action.startsWith(REQUEST)) return splitRequest(action, out);
  return isPrefixOfKind(action) ? "truncated" : "unknown_kind";
}

/**
 * Parses one line into `out` and returns null, or returns why the line is rejected: the
 * hot-loop form of parseEventLine, reusing one scratch record.
 */
export function parseEventInto(line: string, out: EventScratch): RejectReason | null {
  const c1 = line.indexOf(",");
  const c2 = c1 < 0 ? -1 : line.indexOf(",", c1 + 1);
  if (c2 < 0) return "truncated";
  out.time = parseEventTime(line.slice(0, c1));
  if (Number.isNaN(out.time)) return "bad_time";
  out.userId = parseId(line.slice(c1 + 1, c2));
  if (out.userId < 0) return "bad_user_id";
  const split = splitAction(line.slice(c2 + 1), out);
  if (split !== null) return split;
  const checked = EventValuesSchema.safeParse(out);
  if (checked.success) return null;
  return REASON_BY_FIELD[String(checked.error.issues[0]!.path[0])] ?? "bad_request";
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
