/**
 * Header fields a proxy must not pass on, both ways: the hop-by-hop fields of RFC 9110 7.6.1
 * (and any field a Connection line names), the framing, which each hop sets for itself, and the
 * fields the router sets or answers itself (Host, Date, Expect, X-Release).
 */
const DROPPED = new Set([
  "connection", "keep-alive", "proxy-connection", "proxy-authenticate", "proxy-authorization", "te", "trailer",
  "transfer-encoding", "upgrade", "content-length", "host", "date", "expect", "x-release",
]);

/** What most requests and answers name in their Connection line: nothing beyond DROPPED. */
const NONE: ReadonlySet<string> = new Set();

/**
 * The end-to-end fields of a header list given as flat `[name, value, name, value, ...]` (Node's
 * `rawHeaders` form), in order, with their original spelling.
 *
 *     endToEnd(["Host", "x", "X-Request-Id", "r1", "Connection", "close"]) // ["X-Request-Id", "r1"]
 */
export function endToEnd(raw: readonly string[]): string[] {
  let named = NONE;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    if (raw[i].length === 10 && raw[i].toLowerCase() === "connection") named = addTokens(named, raw[i + 1]);
  }
  const out: string[] = [];
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i].toLowerCase();
    if (!DROPPED.has(name) && !named.has(name)) out.push(raw[i], raw[i + 1]);
  }
  return out;
}

/**
 * The end-to-end fields of an answer's header object as undici gives it (lower-case names,
 * repeated fields as arrays), flat `[name, value, ...]` with repeated fields kept repeated, in one
 * pass: this runs for every answer.
 *
 *     endToEndOf({ "x-user-id": "2", connection: "keep-alive" }) // ["x-user-id", "2"]
 */
export function endToEndOf(headers: Record<string, string | string[] | undefined>): string[] {
  const connection = headers.connection;
  let named = NONE;
  if (typeof connection === "string") named = addTokens(named, connection);
  else if (connection !== undefined) for (const line of connection) named = addTokens(named, line);
  const out: string[] = [];
  for (const name in headers) {
    const value = headers[name];
    if (value === undefined || DROPPED.has(name) || named.has(name)) continue;
    if (typeof value === "string") out.push(name, value);
    else for (const v of value) out.push(name, v);
  }
  return out;
}

/** `named` plus the lower-cased field names one Connection line lists (a fresh set only when it lists any). */
function addTokens(named: ReadonlySet<string>, line: string): ReadonlySet<string> {
  let out: Set<string> | null = null;
  for (const t of line.split(",")) {
    const token = t.trim().toLowerCase();
    if (!token || DROPPED.has(token)) continue;
    out ??= new Set(named);
    out.add(token);
  }
  return out ?? named;
}
