import type { IncomingMessage, Server, ServerResponse } from "node:http";
import { closeServer, createHardenedServer } from "@recsys/core";
import type { RouterConfig } from "./config.ts";
import { createForwarder, type Reply, type Served } from "./forward.ts";
import { endToEnd } from "./header-fields.ts";
import { announcesBody, refuse, routerLimits, sendText } from "./http-server.ts";
import type { RouterMetrics } from "./metrics.ts";
import type { PopularList } from "./popular.ts";
import { routeRequest } from "./request-target.ts";
import type { RouteTable } from "./table.ts";
import { createUpstreamClient } from "./upstream-client.ts";
import type { Upstream } from "./upstreams.ts";

/** The public listener and what serves it: in the router's own process, or in each worker process. */
export interface DataPlane {
  /** Not yet listening: the caller binds it (listenOn), in whichever process serves. */
  readonly server: Server;
  /** Lets in-flight requests finish (up to the budget), then closes the upstream connections. */
  close(): Promise<void>;
}

export interface DataPlaneDeps {
  /** The current routing table, read once per request. */
  table: () => RouteTable;
  metrics: RouterMetrics;
  popular: PopularList;
  nowMs: () => number;
  onServed: (served: Served) => void;
  onEjected?: (up: Upstream) => void;
}

/**
 * The request path of the public listener: /recommend and /version go upstream, the probes are
 * the router's own, nothing else passes (see routeRequest). The same code serves a one-process
 * router and every worker of a multi-process one; only where the table, logs and ejections come
 * from and go to differs.
 *
 *     const plane = createDataPlane(config, { table: () => table, metrics, popular, nowMs: Date.now, onServed });
 *     await listenOn(plane.server, 0, "127.0.0.1");
 */
export function createDataPlane(config: RouterConfig, deps: DataPlaneDeps): DataPlane {
  const client = createUpstreamClient({ timeoutMs: config.budgetMs });
  const forward = createForwarder({
    table: deps.table, client, budgetMs: config.budgetMs, attemptTimeoutMs: config.attemptTimeoutMs,
    ejectAfter: config.ejectAfter, metrics: deps.metrics, popular: deps.popular, nowMs: deps.nowMs,
    onServed: deps.onServed, onEjected: deps.onEjected,
  });

  const serve = (req: IncomingMessage, res: ServerResponse): void => {
    const route = routeRequest(req.method ?? "", req.url ?? "");
    if (route.kind === "refuse") return refuse(req, res, route.status, route.reason);
    if (route.kind === "healthz") return sendText(res, 200, "ok");
    if (route.kind === "readyz") {
      const up = deps.table().order.some((r) => r.weight > 0 && r.upstreams.some((u) => u.healthy));
      return sendText(res, up ? 200 : 503, up ? "ready" : "no healthy upstream");
    }
    // A GET carries no body; one that has one is refused rather than forwarded without it.
    if (announcesBody(req)) {
      return refuse(req, res, 400, "a GET request carries no body");
    }
    const method = req.method === "HEAD" ? "HEAD" : "GET";
    const userId = route.kind === "recommend" ? route.userId : null;
    forward({ method, path: route.upstreamPath, headers: endToEnd(req.rawHeaders), userId }, replyTo(res));
  };

  const server = createHardenedServer(routerLimits(config.clientTimeouts, false), serve);
  return {
    server,
    async close() {
      // In-flight requests get their budget to finish; then the sockets go.
      await closeServer(server, config.budgetMs + 200);
      await client.close();
    },
  };
}

/** A {@link Reply} on the client's response: the whole answer, framed by Node, in one write. */
function replyTo(res: ServerResponse): Reply {
  return {
    get gone() { return res.destroyed; },
    send(status, headers, release, body) {
      if (res.headersSent || res.destroyed) return;
      const length = typeof body === "string" ? Buffer.byteLength(body) : body.length;
      res.writeHead(status, [...headers, "x-release", release, "content-length", String(length)]);
      res.end(body);
    },
  };
}
