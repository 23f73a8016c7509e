/**
 * The three line kinds of the site's event stream (see shared/BRIEF.md). Every producer
 * (simulator, API, router) formats through these so the stream stays one format.
 *
 *     <time>,<userid>,GET /data/m/<movieid>/<minute>.mpg
 *     <time>,<userid>,GET /rate/<movieid>=<rating>
 *     <time>,<userid>,recommendation request <server>, status <code>, result: <recs>, <ms> ms
 */

import { putBytes, putInt, putText } from "./byte-writer.ts";

let lastMs = NaN;
let lastTime = "";

/**
 * ISO 8601 without zone and with microseconds, as the real stream writes it. A busy server logs
 * many lines within one millisecond, so the last one is remembered (V8 formats dates with
 * sprintf, a visible share of the router's CPU per request).
 */
export function formatEventTime(ms: number): string {
  if (ms !== lastMs) {
    lastMs = ms;
    lastTime = new Date(ms).toISOString().slice(0, 23) + "000";
  }
  return lastTime;
}

export function formatWatchLine(timeMs: number, userId: number, movieId: string, minute: number): string {
  return `${formatEventTime(timeMs)},${userId},GET /data/m/${movieId}/${minute}.mpg`;
}

export function formatRateLine(timeMs: number, userId: number, movieId: string, rating: number): string {
  return `${formatEventTime(timeMs)},${userId},GET /rate/${movieId}=${rating}`;
}

/**
 * The request line's fixed parts, in order around its fields: time, user, server, status,
 * result, milliseconds. {@link formatRequestLine} and {@link encodeRequestLine} both build the
 * line from these, so the format is written down once.
 */
const REQUEST_PARTS = [",", ",recommendation request ", ", status ", ", result: ", ", ", " ms"] as const;
const [USER_BYTES, REQUEST_BYTES, STATUS_BYTES, RESULT_BYTES, MS_BYTES, END_BYTES] = REQUEST_PARTS.map((p) => Buffer.from(p, "latin1"));

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
  const [user, request, code, recs, ms, end] = REQUEST_PARTS;
  return `${formatEventTime(timeMs)}${user}${userId}${request}${server}${code}${status}${recs}${body}${ms}${Math.round(latencyMs)}${end}`;
}

let timeBytesMs = NaN;
const timeBytes = Buffer.alloc(26);

/** {@link formatEventTime} written into `buf` at `at` (26 bytes); returns where it ends. */
export function putEventTime(buf: Buffer, at: number, ms: number): number {
  if (ms !== timeBytesMs) {
    timeBytesMs = ms;
    timeBytes.write(formatEventTime(ms), 0, "latin1");
  }
  return putBytes(buf, at, timeBytes);
}

/**
 * Writes the same line as {@link formatRequestLine} straight into `buf` at `at` and returns where
 * it ends, for servers that log every request. On status 200 `result` is the id list as the API
 * answers it (`a,b,c`, as text or UTF-8 bytes) and is written as the stream writes it
 * (`a, b, c`) without building a string; otherwise it is the error text. `buf` needs room for
 * {@link requestLineBound} bytes.
 */
export function encodeRequestLine(
  buf: Buffer,
  at: number,
  timeMs: number,
  userId: string,
  server: string,
  status: number,
  result: string | Uint8Array,
  latencyMs: number,
): number {
  at = putEventTime(buf, at, timeMs);
  at = putText(buf, putBytes(buf, at, USER_BYTES), userId);
  at = putText(buf, putBytes(buf, at, REQUEST_BYTES), server);
  at = putInt(buf, putBytes(buf, at, STATUS_BYTES), status);
  at = putBytes(buf, at, RESULT_BYTES);
  if (status !== 200) at = typeof result === "string" ? putText(buf, at, result) : putBytes(buf, at, result);
  else if (typeof result !== "string") at = putSpacedIds(buf, at, result, 0, result.length);
  else at = putSpacedIds(buf, at, buf, at, putText(buf, at, result));
  at = putInt(buf, putBytes(buf, at, MS_BYTES), Math.round(latencyMs));
  return putBytes(buf, at, END_BYTES);
}

/**
 * Writes the ids `src[from, to)` at `buf[at]` with a space after each comma. Reading back to
 * front, it can space ids in place (`src` is `buf` and `from` is `at`).
 */
function putSpacedIds(buf: Buffer, at: number, src: Uint8Array, from: number, to: number): number {
  if (src !== buf || from !== at) {
    // One pass front to back (the usual case: the ids are an upstream answer's bytes).
    for (let r = from; r < to; r++) {
      const b = src[r];
      buf[at++] = b;
      if (b === 0x2c) buf[at++] = 0x20;
    }
    return at;
  }
  let commas = 0;
  for (let i = from; i < to; i++) if (src[i] === 0x2c) commas++;
  const end = at + (to - from) + commas;
  for (let r = to - 1, w = end - 1; r >= from; r--) {
    const b = src[r];
    if (b === 0x2c) buf[w--] = 0x20;
    buf[w--] = b;
  }
  return end;
}

/** An upper bound on the bytes {@link encodeRequestLine} writes. */
export function requestLineBound(userId: string, server: string, result: string | Uint8Array): number {
  return 128 + 3 * (userId.length + server.length) + (typeof result === "string" ? 4 : 2) * result.length;
}
