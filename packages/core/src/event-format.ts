/**
 * The three line kinds of the site's event stream (see shared/BRIEF.md). Every producer
 * (simulator, API, router) formats through these so the stream stays one format.
 *
 *     <time>,<userid>,GET /data/m/<movieid>/<minute>.mpg
 *     <time>,<userid>,GET /rate/<movieid>=<rating>
 *     <time>,<userid>,recommendation request <server>, status <code>, result: <recs>, <ms> ms
 */

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
  return `${requestLineHead(timeMs, userId, server, status)}${body}${requestLineTail(latencyMs)}`;
}

/** The request line up to its result; with {@link requestLineTail}, the one definition of the format. */
function requestLineHead(timeMs: number, userId: number | string, server: string, status: number): string {
  return `${formatEventTime(timeMs)},${userId},recommendation request ${server}, status ${status}, result: `;
}

function requestLineTail(latencyMs: number): string {
  return `, ${Math.round(latencyMs)} ms`;
}

/**
 * Writes the same line as {@link formatRequestLine} straight into `buf` at `at` and returns where
 * it ends, for servers that log every request: on status 200 `result` is the id list as the API
 * answers it (`a,b,c`) and is written as the stream writes it (`a, b, c`) without building the
 * string; otherwise it is the error text. `buf` needs room for {@link requestLineBound} bytes.
 */
export function encodeRequestLine(
  buf: Buffer,
  at: number,
  timeMs: number,
  userId: string,
  server: string,
  status: number,
  result: string,
  latencyMs: number,
): number {
  let end = at + buf.write(requestLineHead(timeMs, userId, server, status), at, "utf8");
  const resultStart = end;
  end += buf.write(result, end, "utf8");
  if (status === 200) end = spaceAfterCommas(buf, resultStart, end);
  return end + buf.write(requestLineTail(latencyMs), end, "latin1");
}

/** An upper bound on the bytes {@link encodeRequestLine} writes. */
export function requestLineBound(userId: string, server: string, result: string): number {
  return 128 + 3 * (userId.length + server.length) + 4 * result.length;
}

/** Turns each "," in buf[from, to) into ", " in place (the bytes after `to` are free); returns the new end. */
function spaceAfterCommas(buf: Buffer, from: number, to: number): number {
  let commas = 0;
  for (let i = from; i < to; i++) if (buf[i] === 0x2c) commas++;
  let w = to + commas - 1;
  for (let r = to - 1; w > r; r--) {
    const b = buf[r];
    if (b === 0x2c) buf[w--] = 0x20;
    buf[w--] = b;
  }
  return to + commas;
}
