import { Agent, createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { csvField, encodeRequestLine, putEventTime, putInt, putText, requestLineBound } from "@recsys/core";
import { createAdminHandler } from "./admin.ts";
import { parseRouterConfig, type RouterConfigInput } from "./config.ts";
import { RouterError } from "./errors.ts";
import { createLineLog, type LineLog } from "@recsys/core";
import { createForwarder, type Served } from "./forward.ts";
import { forwardedLines, linesToPairs } from "./http-fields.ts";
import { createFrontServer, type Reply } from "./http-front.ts";
import { createRouterMetrics } from "./metrics.ts";
import { createPopularList } from "./popular.ts";
import { applyWeights, checkReleases, promote, rollback, setReleaseUpstreams, WeightsChangeSchema, type Release, type WeightsChange } from "./state.ts";
import { buildTable, type RouteTable } from "./table.ts";
import { createUpstreamPool } from "./upstream-pool.ts";
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

export interface Router {
  /** Starts serving (default: the config's port and host; 0 = an ephemeral port). */
  listen(port?: number, host?: string): Promise<{ port: number; url: string }>;
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
  const pool = createUpstreamPool({ batchSize: config.upstreamBatch });
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
    table: () => table, pool, budgetMs: config.budgetMs, attemptTimeoutMs: config.attemptTimeoutMs,
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

  const admin = createAdminHandler(router, config.adminToken);

  /** Everything the fast path does not take: admin, metrics, probes, other methods, odd requests. */
  const dispatch = (req: IncomingMessage, res: ServerResponse): void => {
    const url = req.url ?? "/";
    const q = url.indexOf("?");
    const path = q < 0 ? url : url.slice(0, q);
    const method = req.method === "GET" || req.method === "HEAD" ? req.method : null;
    // A /recommend request here came on a connection handed over from the fast path.
    const forwardHere = (userId: string | null) => forward({ method: method!, target: url, fields: forwardedLines(req.rawHeaders), userId }, responseReply(res));
    if (path.startsWith("/recommend/") && method) return forwardHere(userIdOf(url));
    if (path.startsWith("/admin/")) return admin(req, res, path);
    if (path === "/metrics" && method) {
      metrics.registry.metrics().then((text) => reply(res, 200, metrics.registry.contentType, text), (err: Error) => reply(res, 500, "text/plain", err.message));
      return;
    }
    if (path === "/healthz") return reply(res, 200, "text/plain", "ok");
    if (path === "/readyz") {
      const up = table.order.some((r) => r.weight > 0 && r.upstreams.some((u) => u.healthy));
      return reply(res, up ? 200 : 503, "text/plain", up ? "ready" : "no healthy upstream");
    }
    if (method) return forwardHere(null);
    req.resume();
    reply(res, 405, "text/plain", `${req.method} not allowed`);
  };
  const front = createFrontServer({
    accept: (target) => target.startsWith("/recommend/"),
    onRequest: (head, out) => forward({ method: head.method, target: head.target, fields: head.fields, userId: userIdOf(head.target) }, out),
    slow: createServer({ keepAliveTimeout: KEEP_ALIVE_MS }, dispatch),
    keepAliveMs: KEEP_ALIVE_MS,
  });

  let stopChecks: (() => void) | null = null;
  const listen = async (port: number, host: string): Promise<{ port: number; url: string }> => {
    const bound = await front.listen(port, host);
    stopChecks ??= startHealthChecks(() => health.values(), { ...config.healthCheck, agent: checkAgent });
    return { port: bound, url: `http://${host === "0.0.0.0" || host === "::" ? "127.0.0.1" : host}:${bound}` };
  };

  const close = async (): Promise<void> => {
    stopChecks?.();
    stopChecks = null;
    // In-flight requests get their budget to finish; then the sockets go.
    await front.close(config.budgetMs + 200);
    pool.close();
    checkAgent.destroy();
    await Promise.all([events?.close(), servedBy?.close()]);
  };

  return router;
}

const KEEP_ALIVE_MS = 30_000;

/** One row of the releases CSV (see RELEASES_HEADER), written into the log's buffer. */
function encodeServedRow(buf: Buffer, at: number, s: Served): number {
  at = putEventTime(buf, at, s.timeMs);
  // A user id is whatever the URL said: quoted when it holds a comma or a quote.
  at = putText(buf, comma(buf, at), csvField(s.userId));
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

/** The id in `/recommend/<id>[?...]`, or null when it is empty or has more path segments. */
function userIdOf(target: string): string | null {
  const q = target.indexOf("?");
  const id = target.slice("/recommend/".length, q < 0 ? target.length : q);
  return id && !id.includes("/") ? id : null;
}

/** A {@link Reply} through Node's server (a connection the fast path handed over). */
function responseReply(res: ServerResponse): Reply {
  return {
    get gone() { return res.destroyed; },
    send(status, fields, body) {
      if (res.headersSent || res.destroyed) return;
      const size = typeof body === "string" ? Buffer.byteLength(body) : body.length;
      res.writeHead(status, [...linesToPairs(fields), "content-length", String(size)]);
      res.end(body);
    },
  };
}

function reply(res: ServerResponse, status: number, type: string, body: string): void {
  res.writeHead(status, { "content-type": type, "content-length": Buffer.byteLength(body) });
  res.end(body);
}
