import { Agent, type IncomingMessage, type ServerResponse } from "node:http";
import { closeServer, createHardenedServer, createLineLog, encodeRequestLine, putEventTime, putInt, putText, requestLineBound, type LineLog } from "@recsys/core";
import { createAdminHandler } from "./admin.ts";
import { parseRouterConfig, type RouterConfigInput } from "./config.ts";
import { RouterError } from "./errors.ts";
import { createForwarder, type Reply, type Served } from "./forward.ts";
import { endToEnd } from "./header-fields.ts";
import { listenOn, routerLimits, sendText, urlFor } from "./http-server.ts";
import { createRouterMetrics } from "./metrics.ts";
import { createPopularList } from "./popular.ts";
import { routeRequest } from "./request-target.ts";
import { applyWeights, checkReleases, promote, rollback, setReleaseUpstreams, WeightsChangeSchema, type Release, type WeightsChange } from "./state.ts";
import { buildTable, type RouteTable } from "./table.ts";
import { createUpstreamClient } from "./upstream-client.ts";
import { startHealthChecks, type Upstream } from "./upstreams.ts";

/** A snapshot of the routing state, as `GET /admin/state` answers it. */
export interface RouterState {
  /** Bumped on every change, so a caller can tell whether its view is current. */
  generation: number;
  releases: Release[];
  upstreams: { url: string; release: string; healthy: boolean; failures: number; lastError: string }[];
  /** The ids /recommend falls back to when no upstream answers (null before any answer). */
  fallback: string[] | null;
}

/** Where a listening router is: the public listener, and the admin listener apart from it. */
export interface RouterAddress {
  port: number;
  url: string;
  adminPort: number;
  adminUrl: string;
}

export interface Router {
  /**
   * Starts serving (default: the config's port and host; 0 = an ephemeral port) and the admin
   * listener (`config.admin`). A port in use rejects with Node's EADDRINUSE error.
   */
  listen(port?: number, host?: string): Promise<RouterAddress>;
  /** Stops health checks, lets in-flight requests finish (up to the budget), flushes the logs. */
  close(): Promise<void>;
  state(): RouterState;
  setWeights(change: WeightsChange): RouterState;
  promote(): RouterState & { retired: Release };
  rollback(): RouterState;
  setUpstreams(releaseId: string, upstreams: readonly string[]): RouterState;
  /** Replaces the whole release list (e.g. to add a new canary at weight 0). */
  setReleases(releases: unknown): RouterState;
  /** Prometheus text of this router's own registry. */
  metrics(): Promise<string>;
  /** Appends the buffered log lines now. */
  flush(): Promise<void>;
}

export interface RouterDeps {
  /** Wall clock for log times (tests pass a fixed one). */
  nowMs?: () => number;
  /** Where log-append failures are reported (default: stderr). */
  onError?: (message: string) => void;
}

const RELEASES_HEADER = "time,user_id,release,upstream,status,latency_ms,attempts";

/**
 * Builds a router from a config (validated here; see RouterConfigSchema). Nothing listens and no
 * timer runs until `listen`; several routers can live in one process (own agent, own metrics
 * registry, own logs). State changes are synchronous and atomic: a request sees the old table
 * or the new one, never a mix, and a refused change leaves the table as it was.
 *
 *     const router = createRouter({ releases, port: 0, adminToken: "s3cret-s3cret-s3cret" });
 *     const { url } = await router.listen();
 *     router.setWeights({ canary: 50 });
 *     await router.close();
 */
export function createRouter(input: RouterConfigInput, deps: RouterDeps = {}): Router {
  const config = parseRouterConfig(input, "router config");
  const nowMs = deps.nowMs ?? Date.now;
  const onError = deps.onError ?? ((m: string) => process.stderr.write(`recsys route: ${m}\n`));
  const client = createUpstreamClient({ timeoutMs: config.budgetMs });
  const checkAgent = new Agent({ keepAlive: false });
  const health = new Map<string, Upstream>();
  let generation = 1;
  let table: RouteTable;

  const metrics = createRouterMetrics(() => ({
    weights: table.order.map((r) => [r.id, r.weight]),
    upstreams: table.order.flatMap((r) => r.upstreams.map((u): [string, string, boolean] => [r.id, u.url, u.healthy])),
  }));
  table = buildTable(config.releases, health, metrics.forRelease);
  const popular = createPopularList({ ...config.popular, seed: config.popular.seed });

  const logError = (err: Error) => onError(`event log: ${err.message}`);
  let events: LineLog | null = null;
  let servedBy: LineLog | null = null;
  if (config.eventLog) {
    const { path, releasesPath, flushMs } = config.eventLog;
    events = createLineLog({ path, flushMs, onError: logError });
    servedBy = createLineLog({ path: releasesPath ?? `${path}.releases.csv`, flushMs, header: RELEASES_HEADER, onError: logError });
  }
  const { serverName } = config;
  const encodeEventLine = (buf: Buffer, at: number, s: Served): number => encodeRequestLine(buf, at, s.timeMs, s.userId, serverName, s.status, s.result, s.latencyMs);
  const onServed = (s: Served): void => {
    if (!events) return;
    events.writeWith(requestLineBound(s.userId, serverName, s.result), encodeEventLine, s);
    servedBy!.writeWith(64 + 3 * (s.userId.length + s.release.length + s.upstream.length), encodeServedRow, s);
  };

  const forward = createForwarder({
    table: () => table, client, budgetMs: config.budgetMs, attemptTimeoutMs: config.attemptTimeoutMs,
    ejectAfter: config.ejectAfter, metrics, popular, nowMs, onServed,
  });

  const state = (): RouterState => {
    const fallback = popular.current(nowMs());
    return {
      generation,
      releases: table.releases.map((r) => ({ ...r, upstreams: [...r.upstreams] })),
      upstreams: table.order.flatMap((r) => r.upstreams.map((u) => ({ url: u.url, release: r.id, healthy: u.healthy, failures: u.failures, lastError: u.lastError }))),
      fallback: fallback === null ? null : fallback.split(","),
    };
  };
  const commit = (releases: Release[]): RouterState => {
    table = buildTable(releases, health, metrics.forRelease);
    generation++;
    return state();
  };

  const router: Router = {
    state,
    setWeights(change) {
      const parsed = WeightsChangeSchema.safeParse(change);
      if (!parsed.success) throw new RouterError("badRequest", `weights: ${parsed.error.issues.map((i) => i.message).join("; ")}`);
      return commit(applyWeights(table.releases, parsed.data));
    },
    promote() {
      const { releases, retired } = promote(table.releases);
      return { ...commit(releases), retired };
    },
    rollback: () => commit(rollback(table.releases)),
    setUpstreams: (releaseId, upstreams) => commit(setReleaseUpstreams(table.releases, releaseId, upstreams)),
    setReleases: (releases) => commit(checkReleases(releases)),
    metrics: () => metrics.registry.metrics(),
    flush: async () => { await Promise.all([events?.flush(), servedBy?.flush()]); },
    listen: (port = config.port, host = config.host) => listen(port, host),
    close: () => close(),
  };

  /** The public listener: /recommend and /version go upstream, probes are the router's own, nothing else passes. */
  const serve = (req: IncomingMessage, res: ServerResponse): void => {
    const route = routeRequest(req.method ?? "", req.url ?? "");
    if (route.kind === "refuse") return refuse(req, res, route.status, route.reason);
    if (route.kind === "healthz") return sendText(res, 200, "ok");
    if (route.kind === "readyz") {
      const up = table.order.some((r) => r.weight > 0 && r.upstreams.some((u) => u.healthy));
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

  const admin = createAdminHandler(router, config.adminToken);
  /** The admin listener: /admin/* (token) and the router's Prometheus text. */
  const serveAdmin = (req: IncomingMessage, res: ServerResponse): void => {
    const path = (req.url ?? "/").split("?", 1)[0];
    if (path.startsWith("/admin/")) return admin(req, res, path);
    if (path === "/metrics" && (req.method === "GET" || req.method === "HEAD")) {
      metrics.registry.metrics().then((text) => sendText(res, 200, text, metrics.registry.contentType), (err: Error) => sendText(res, 500, err.message));
      return;
    }
    refuse(req, res, 404, "no such endpoint (admin listener: /admin/*, /metrics)");
  };

  const publicServer = createHardenedServer(routerLimits(config.clientTimeouts, false), serve);
  const adminServer = createHardenedServer(routerLimits(config.clientTimeouts, true), serveAdmin);

  let stopChecks: (() => void) | null = null;
  const listen = async (port: number, host: string): Promise<RouterAddress> => {
    const bound = await listenOn(publicServer, port, host);
    let adminBound: number;
    try {
      adminBound = await listenOn(adminServer, config.admin.port, config.admin.host);
    } catch (err) {
      await closeServer(publicServer, 0);
      throw err;
    }
    stopChecks ??= startHealthChecks(() => health.values(), { ...config.healthCheck, agent: checkAgent });
    return { port: bound, url: urlFor(host, bound), adminPort: adminBound, adminUrl: urlFor(config.admin.host, adminBound) };
  };

  const close = async (): Promise<void> => {
    stopChecks?.();
    stopChecks = null;
    // In-flight requests get their budget to finish; then the sockets go.
    await Promise.all([closeServer(publicServer, config.budgetMs + 200), closeServer(adminServer, 1000)]);
    await client.close();
    checkAgent.destroy();
    await Promise.all([events?.close(), servedBy?.close()]);
  };

  return router;
}


/** One row of the releases CSV (see RELEASES_HEADER), written into the log's buffer. */
function encodeServedRow(buf: Buffer, at: number, s: Served): number {
  at = putEventTime(buf, at, s.timeMs);
  // The canonical id (digits only): nothing to quote.
  at = putText(buf, comma(buf, at), s.userId);
  at = putText(buf, comma(buf, at), s.release);
  at = putText(buf, comma(buf, at), s.upstream);
  at = putInt(buf, comma(buf, at), s.status);
  at = putInt(buf, comma(buf, at), Math.round(s.latencyMs));
  return putInt(buf, comma(buf, at), s.attempts);
}

function comma(buf: Buffer, at: number): number {
  buf[at] = 0x2c;
  return at + 1;
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

/** A refusal of the router's own; the connection closes when the request may still have a body on the way. */
function refuse(req: IncomingMessage, res: ServerResponse, status: number, reason: string): void {
  if (announcesBody(req)) res.shouldKeepAlive = false;
  req.resume();
  sendText(res, status, reason);
}

/** Whether a request says a body follows (a non-zero Content-Length, or any Transfer-Encoding). */
function announcesBody(req: IncomingMessage): boolean {
  const length = req.headers["content-length"];
  return (length !== undefined && length !== "0") || req.headers["transfer-encoding"] !== undefined;
}
