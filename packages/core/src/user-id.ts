/** The largest user id the platform stores (ids are u32 in models and datasets). */
export const MAX_USER_ID = 2 ** 32 - 1;

/**
 * Longest path segment worth decoding: ten digits, each percent-encoded at most (`%3X`), so
 * anything longer cannot be a valid id and is refused before any work is spent on it.
 */
const MAX_SEGMENT = 30;

/**
 * Parses text as a user id: 1-10 ASCII digits up to MAX_USER_ID, else −1. Checked by hand so a
 * hostile value (huge, signed, fractional, unicode digits) costs a few compares.
 *
 *     parseUserId("42")  // 42
 *     parseUserId("-1")  // -1
 */
export function parseUserId(text: string): number {
  const n = text.length;
  if (n === 0 || n > 10) return -1;
  let v = 0;
  for (let i = 0; i < n; i++) {
    const d = text.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return -1;
    v = v * 10 + d;
  }
  return v <= MAX_USER_ID ? v : -1;
}

/**
 * The one rule for the `<userid>` segment of `/recommend/<userid>`, shared by the router and the
 * API so both hops agree on who a request is for: percent-decode, then {@link parseUserId}.
 * Returns the canonical decimal id (`"%32"` and `"002"` are both `"2"`), or null when the segment
 * is not a valid id. The canonical id is what sticky routing hashes, what the logs record and
 * what goes upstream, so one user has exactly one spelling everywhere.
 *
 *     userIdFromSegment("%34%32") // "42"
 *     userIdFromSegment("1,2")    // null
 */
export function userIdFromSegment(segment: string): string | null {
  if (segment.length > MAX_SEGMENT) return null;
  let text = segment;
  if (segment.includes("%")) {
    try {
      text = decodeURIComponent(segment);
    } catch {
      return null;
    }
  }
  const id = parseUserId(text);
  return id < 0 ? null : String(id);
}
