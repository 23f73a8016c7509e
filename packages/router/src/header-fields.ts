/**
 * Header fields a proxy must not pass on, both ways: the hop-by-hop fields of RFC 9110 7.6.1
 * (and any field a Connection line names), the framing, which each hop sets for itself, and the
 * fields the router sets or answers itself (Host, Date, Expect, X-Release).
 */
const DROPPED = new Set([
  "connection", "keep-alive", "proxy-connection", "proxy-authenticate", "proxy-authorization", "te", "trailer",
  "transfer-encoding", "upgrade", "content-length", "host", "date", "expect", "x-release",
]);

/**
 * The end-to-end fields of a header list given as flat `[name, value, name, value, ...]` (Node's
 * `rawHeaders` form), in order, with their original spelling.
 *
 *     endToEnd(["Host", "x", "X-Request-Id", "r1", "Connection", "close"]) // ["X-Request-Id", "r1"]
 */
export function endToEnd(raw: readonly string[]): string[] {
  const named = connectionTokens(raw);
  const out: string[] = [];
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i].toLowerCase();
    if (!DROPPED.has(name) && !named.has(name)) out.push(raw[i], raw[i + 1]);
  }
  return out;
}

/** undici's header object as the flat list {@link endToEnd} takes (repeated fields stay repeated). */
export function flatHeaders(headers: Record<string, string | string[] | undefined>): string[] {
  const out: string[] = [];
  for (const [name, value] of Object.entries(headers)) {
    if (Array.isArray(value)) for (const v of value) out.push(name, v);
    else if (value !== undefined) out.push(name, value);
  }
  return out;
}

/** Lower-cased field names listed in every Connection line. */
function connectionTokens(raw: readonly string[]): Set<string> {
  const tokens = new Set<string>();
  for (let i = 0; i + 1 < raw.length; i += 2) {
    if (raw[i].toLowerCase() !== "connection") continue;
    for (const t of raw[i + 1].split(",")) if (t.trim()) tokens.add(t.trim().toLowerCase());
  }
  return tokens;
}
