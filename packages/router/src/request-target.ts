import { userIdFromSegment } from "@recsys/core";

/**
 * What the router does with one request, decided once from its method and target before
 * anything is forwarded. Only the platform's endpoints reach an upstream (an allow-list), and a
 * /recommend request reaches it as `/recommend/<canonical id>`: the same value that picks the
 * sticky bucket and goes into the event log, so one user has one spelling everywhere.
 */
export type Route =
  | { kind: "recommend"; userId: string; upstreamPath: string }
  | { kind: "version"; upstreamPath: "/version" }
  | { kind: "healthz" }
  | { kind: "readyz" }
  | { kind: "refuse"; status: 400 | 404 | 405; reason: string };

const PREFIX = "/recommend/";

/**
 * Classifies a request of the public listener. The target is origin-form (`/recommend/42`) or
 * absolute-form (`http://host/recommend/42`, which HTTP/1.1 servers must accept): both reduce to
 * the same path, so neither spelling can skip a rule. The query is dropped; paths match exactly
 * (case and trailing slash included).
 *
 *     routeRequest("GET", "/recommend/%34%32?x=1") // { kind: "recommend", userId: "42", upstreamPath: "/recommend/42" }
 *     routeRequest("GET", "http://x/admin/state")  // { kind: "refuse", status: 404, ... }
 */
export function routeRequest(method: string, target: string): Route {
  const path = pathOf(target);
  if (path === null) return { kind: "refuse", status: 400, reason: "request target must be /path or http://host/path" };
  const readOnly = method === "GET" || method === "HEAD";
  if (path.startsWith(PREFIX)) {
    if (!readOnly) return { kind: "refuse", status: 405, reason: `${method.slice(0, 16)} not allowed: /recommend takes GET or HEAD` };
    const userId = userIdFromSegment(path.slice(PREFIX.length));
    if (userId === null) {
      return path.includes("/", PREFIX.length)
        ? { kind: "refuse", status: 404, reason: "no such endpoint: use /recommend/<userid>" }
        : { kind: "refuse", status: 400, reason: "user id must be a whole number from 0 to 4294967295" };
    }
    return { kind: "recommend", userId, upstreamPath: PREFIX + userId };
  }
  const own = path === "/healthz" ? "healthz" : path === "/readyz" ? "readyz" : path === "/version" ? "version" : null;
  if (own === null) return { kind: "refuse", status: 404, reason: "no such endpoint (the router serves /recommend/<userid>, /version, /healthz, /readyz)" };
  if (!readOnly) return { kind: "refuse", status: 405, reason: `${method.slice(0, 16)} not allowed: ${path} takes GET or HEAD` };
  return own === "version" ? { kind: "version", upstreamPath: "/version" } : { kind: own };
}

/**
 * The path of an origin- or absolute-form target without its query, or null for anything else.
 * The absolute form's path is taken as sent (no dot-segment folding), exactly as the origin
 * form's is, so the two spellings of one request always meet the same rule.
 */
function pathOf(target: string): string | null {
  let path = target;
  if (!target.startsWith("/")) {
    const absolute = ABSOLUTE.exec(target);
    if (!absolute) return null;
    path = absolute[1] === "" || absolute[1].startsWith("?") ? `/${absolute[1]}` : absolute[1];
  }
  const q = path.indexOf("?");
  return q < 0 ? path : path.slice(0, q);
}

/** `http(s)://authority` and the rest of the target. */
const ABSOLUTE = /^https?:\/\/[^/?#\s]+(.*)$/i;
