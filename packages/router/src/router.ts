import { Agent, createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { Agent as Pools } from "undici";
import type { AddressInfo } from "node:net";
import { formatEventTime, formatRequestLine } from "@recsys/core";
import { createAdminHandler } from "./admin.ts";
import { parseRouterConfig, type RouterConfigInput } from "./config.ts";
import { RouterError } from "./errors.ts";
import { createLineLog, type LineLog } from "@recsys/core";
import { createForwarder, type Served } from "./forward.ts";
import { createRouterMetrics } from "./metrics.ts";
import { createPopularList } from "./popular.ts";
import { applyWeights, checkReleases, promote, rollback, setReleaseUpstreams, WeightsChangeSchema, type Release, type WeightsChange } from "./state.ts";
import { buildTable, type RouteTable } from "./table.ts";
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
const TIME_LENGTH = formatEventTime(0).length;

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
  // undici keeps one keep-alive pool per upstream origin; a connection serves one request at a time.
  const pools = new Pools({ connections: 1024, pipelining: 1 });
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
  const onServed = (s: Served): void => {
    if (!events) return;
    const line = formatRequestLine(nowMs(), s.userId, config.serverName, s.status, s.status === 200 ? s.result.replaceAll(",", ", ") : s.result, s.latencyMs);
    events.write(line);
    // The line starts with "<time>,<userid>,": reuse it rather than format the time twice.
    servedBy!.write(`${line.slice(0, line.indexOf(",", TIME_LENGTH + 1))},${s.release},${s.upstream},${s.status},${Math.round(s.latencyMs)},${s.attempts}`);
  };

  const forward = createForwarder({
    table: () => table, dispatcher: pools, budgetMs: config.budgetMs, attemptTimeoutMs: config.attemptTimeoutMs,
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
  const server = createServer({ keepAliveTimeout: 30_000 }, (req, res) => dispatch(req, res));

  const dispatch = (req: IncomingMessage, res: ServerResponse): void => {
    const url = req.url ?? "/";
    const q = url.indexOf("?");
    const path = q < 0 ? url : url.slice(0, q);
    const isGet = req.method === "GET" || req.method === "HEAD";
    if (path.startsWith("/recommend/") && isGet) {
      const userId = path.slice("/recommend/".length);
      return forward(req, res, userId && !userId.includes("/") ? userId : null);
    }
    if (path.startsWith("/admin/")) return admin(req, res, path);
    if (path === "/metrics" && isGet) {
      metrics.registry.metrics().then((text) => reply(res, 200, metrics.registry.contentType, text), (err: Error) => reply(res, 500, "text/plain", err.message));
      return;
    }
    if (path === "/healthz") return reply(res, 200, "text/plain", "ok");
    if (path === "/readyz") {
      const up = table.order.some((r) => r.weight > 0 && r.upstreams.some((u) => u.healthy));
      return reply(res, up ? 200 : 503, "text/plain", up ? "ready" : "no healthy upstream");
    }
    if (isGet) return forward(req, res, null);
    req.resume();
    reply(res, 405, "text/plain", `${req.method} not allowed`);
  };

  let stopChecks: (() => void) | null = null;
  const listen = (port: number, host: string): Promise<{ port: number; url: string }> =>
    new Promise((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, host, () => {
        server.off("error", reject);
        stopChecks ??= startHealthChecks(() => health.values(), { ...config.healthCheck, agent: checkAgent });
        const bound = (server.address() as AddressInfo).port;
        resolve({ port: bound, url: `http://${host === "0.0.0.0" || host === "::" ? "127.0.0.1" : host}:${bound}` });
      });
    });

  const close = async (): Promise<void> => {
    stopChecks?.();
    stopChecks = null;
    if (server.listening) {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      // In-flight requests get their budget to finish; then the sockets go.
      const force = setTimeout(() => server.closeAllConnections(), config.budgetMs + 200);
      await closed;
      clearTimeout(force);
    }
    await pools.destroy();
    checkAgent.destroy();
    await Promise.all([events?.close(), servedBy?.close()]);
  };

  return router;
}

function reply(res: ServerResponse, status: number, type: string, body: string): void {
  res.writeHead(status, { "content-type": type, "content-length": Buffer.byteLength(body) });
  res.end(body);
}
