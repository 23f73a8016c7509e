import type { IncomingMessage } from "node:http";
import { randomBytes } from "node:crypto";

/** Set by the server's request listener before express sees the request. */
export interface TimedRequest extends IncomingMessage {
  startedAt: number;
}

const INCOMING_ID = /^[\w.:-]{1,64}$/;

/**
 * Request ids: the caller's X-Request-Id when it is a plain token (the router's, so one id
 * follows a request through both hops), else `<process prefix>-<counter>`: unique across
 * processes without a random draw per request.
 */
export function createRequestIds(): (req: IncomingMessage) => string {
  const prefix = randomBytes(4).toString("hex");
  let counter = 0;
  return (req) => {
    const given = req.headers["x-request-id"];
    return typeof given === "string" && INCOMING_ID.test(given) ? given : `${prefix}-${(++counter).toString(36)}`;
  };
}

/** A client-supplied text made safe for a one-line message or a log field. */
export function printable(text: string, max = 64): string {
  const clipped = text.length > max ? text.slice(0, max) + "…" : text;
  return clipped.replace(/[^\x20-\x7e…]/g, "?");
}

/** The UTC day of a time as "YYYY-MM-DD", recomputed only when the day changes. */
export function createDayClock(): (ms: number) => string {
  let from = 0, to = 0, day = "";
  return (ms) => {
    if (ms < from || ms >= to) {
      from = ms - (ms % 86_400_000);
      to = from + 86_400_000;
      day = new Date(from).toISOString().slice(0, 10);
    }
    return day;
  };
}
