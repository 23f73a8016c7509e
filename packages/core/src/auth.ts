import { createHash, timingSafeEqual } from "node:crypto";

const digest = (text: string): Buffer => createHash("sha256").update(text).digest();

/** `Bearer <token>`: the scheme is case-insensitive (RFC 9110 11.1), one or more spaces after it. */
const BEARER = /^bearer +/i;

/**
 * True when an `Authorization` header is `Bearer <token>` with the configured token; always false
 * when no token is configured. Both sides are hashed first, so the compare is constant-time and
 * leaks no length. Shared by every admin API (API reload, router admin).
 *
 *     bearerTokenMatches(req.headers.authorization, process.env.RECSYS_ADMIN_TOKEN)
 */
export function bearerTokenMatches(header: string | undefined, token: string | undefined): boolean {
  const scheme = header === undefined ? null : BEARER.exec(header);
  if (!token || scheme === null) return false;
  return timingSafeEqual(digest(header!.slice(scheme[0].length)), digest(token));
}
