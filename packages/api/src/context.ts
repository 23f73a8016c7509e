import type { IncomingMessage, ServerResponse } from "node:http";
import type { ApiConfig } from "./config.ts";
import type { ApiMetrics, RouteLabel } from "./metrics.ts";
import type { ModelHolder } from "./model-holder.ts";
import type { TimedRequest } from "./request-context.ts";
import type { ResponseLog } from "./response-log.ts";

/** What every handler reads: passed in, so handlers hold no state of their own. */
export interface AppContext {
  config: ApiConfig;
  holder: ModelHolder;
  metrics: ApiMetrics;
  /** The response log, once open. */
  log(): ResponseLog | null;
  now(): number;
  /** True while the server drains for a stop: readiness fails, connections close after use. */
  closing(): boolean;
  /** Where background and unexpected failures are reported (one line each). */
  report(line: string): void;
}

export const TEXT = "text/plain; charset=utf-8";
export const JSON_TYPE = "application/json; charset=utf-8";

/** Time since the server's listener saw the request (0 when the app is mounted elsewhere). */
export function elapsedMs(req: IncomingMessage): number {
  const started = (req as Partial<TimedRequest>).startedAt;
  return started === undefined ? 0 : performance.now() - started;
}

export type Respond = (req: IncomingMessage, res: ServerResponse, route: RouteLabel, status: number, type: string, body: string, headers?: Record<string, string>) => void;

/**
 * Writes a whole response in one call (no express send(): no ETag hashing, no type sniffing)
 * and counts it in the metrics. While draining, it asks the client to close the connection.
 */
export function createResponder(ctx: AppContext): Respond {
  return (req, res, route, status, type, body, headers = {}) => {
    if (ctx.closing()) headers.Connection = "close";
    headers["Content-Type"] = type;
    headers["Content-Length"] = String(Buffer.byteLength(body));
    res.writeHead(status, headers);
    res.end(body);
    ctx.metrics.observe(route, status, elapsedMs(req) / 1000);
  };
}
