import { Agent, type IncomingMessage, type ServerResponse } from "node:http";
import { Registry } from "prom-client";
import { closeServer, createHardenedServer, createLineLog, type LineLog } from "@recsys/core";
import { createAdminHandler } from "./admin.ts";
import { createWorkerPool, type WorkerPool } from "./cluster.ts";
import { parseRouterConfig, type RouterConfigInput } from "./config.ts";
import { createDataPlane, type DataPlane } from "./data-plane.ts";
import { RouterError } from "./errors.ts";
import { listenOn, refuse, routerLimits, sendText, urlFor } from "./http-server.ts";
import { createRouterMetrics, registerStateGauges } from "./metrics.ts";
import { createPopularList } from "./popular.ts";
import { RELEASES_HEADER, servedLogger } from "./served-log.ts";
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
  /**
   * Resolves once every process serving the public port has applied the last change (at once
   * with one process; with workers, when each has confirmed it, or RouterError
   * `ROUTER_WORKERS_BEHIND` after 5 s). The admin API answers only then.
   */
  applied(): Promise<void>;
  /** Prometheus text of this router's own registry (with workers: their series summed, and the state gauges). */
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

/**
 * Builds a router from a config (validated here; see RouterConfigSchema). Nothing listens and no
 * timer runs until `listen`; several routers can live in one process (own agent, own metrics
 * registry, own logs). State changes are synchronous and atomic: a request sees the old table
 * or the new one, never a mix, and a refused change leaves the table as it was. With
 * `workers` above 1, `listen` forks that many processes to serve the public port (see
 * cluster.ts); this process keeps the state, the admin API, the health checks and the logs.
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
  const checkAgent = new Agent({ keepAlive: false });
  const health = new Map<string, Upstream>();
  let generation = 1;
  let table: RouteTable;

  const describe = () => ({
    weights: table.order.map((r): [string, number] => [r.id, r.weight]),
    upstreams: table.order.flatMap((r) => r.upstreams.map((u): [string, string, boolean] => [r.id, u.url, u.healthy])),
  });
  const metrics = createRouterMetrics();
  // The weight and health gauges come from this process, which holds the state; the request
  // series from whichever processes serve (with workers, summed across them).
  const stateRegistry = config.workers === 1 ? metrics.registry : new Registry();
  registerStateGauges(stateRegistry, describe);
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

  let local: DataPlane | null = null;
  let pool: WorkerPool | null = null;
  /** With workers: the last popular list one of them reported (the fallback it would answer); this process's own list then holds only the seed. */
  let reportedPopular: string | null = null;
  if (config.workers === 1) {
    local = createDataPlane(config, {
      table: () => table, metrics, popular, nowMs,
      onServed: events && servedBy ? servedLogger(config.serverName, events, servedBy) : () => {},
    });
  } else {
    pool = createWorkerPool(config.workers, config, {
      current: () => ({ generation, releases: table.releases.map((r) => ({ ...r, upstreams: [...r.upstreams] })), down: [...health.values()].filter((u) => !u.healthy).map((u) => u.url) }),
      // Whole lines, each ending in a newline: appended as one entry (the log adds the last newline).
      onLog: (stream, bytes) => (stream === "events" ? events : servedBy)?.writeWith(bytes.length - 1, copyLines, bytes),
      onEject: (url, error) => {
        const up = health.get(url);
        if (up) { up.healthy = false; up.lastError = error; }
      },
      onPopular: (list) => { reportedPopular = list; },
      onError,
    });
  }

  const state = (): RouterState => {
    const fallback = reportedPopular ?? popular.current(nowMs());
    return {
      generation,
      releases: table.releases.map((r) => ({ ...r, upstreams: [...r.upstreams] })),
      upstreams: table.order.flatMap((r) => r.upstreams.map((u) => ({ url: u.url, release: r.id, healthy: u.healthy, failures: u.failures, lastError: u.lastError }))),
      fallback: fallback === null ? null : fallback.split(","),
    };
  };
  let pushed: Promise<void> = Promise.resolve();
  const commit = (releases: Release[]): RouterState => {
    table = buildTable(releases, health, metrics.forRelease);
    generation++;
    if (pool) pushed = pool.apply();
    // A caller that does not wait (a direct call, not the admin API) must not see an unhandled rejection.
    pushed.catch(() => {});
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
    applied: () => pushed,
    metrics: async () => (pool ? (await pool.metrics()) + (await stateRegistry.metrics()) : metrics.registry.metrics()),
    flush: async () => { await Promise.all([events?.flush(), servedBy?.flush()]); },
    listen: (port = config.port, host = config.host) => listen(port, host),
    close: () => close(),
  };

  const admin = createAdminHandler(router, config.adminToken);
  /** The admin listener: /admin/* (token) and the router's Prometheus text. */
  const serveAdmin = (req: IncomingMessage, res: ServerResponse): void => {
    const path = (req.url ?? "/").split("?", 1)[0];
    if (path.startsWith("/admin/")) return admin(req, res, path);
    if (path === "/metrics" && (req.method === "GET" || req.method === "HEAD")) {
      router.metrics().then((text) => sendText(res, 200, text, metrics.registry.contentType), (err: Error) => sendText(res, 500, err.message));
      return;
    }
    refuse(req, res, 404, "no such endpoint (admin listener: /admin/*, /metrics)");
  };
  const adminServer = createHardenedServer(routerLimits(config.clientTimeouts, true), serveAdmin);

  let stopChecks: (() => void) | null = null;
  const listen = async (port: number, host: string): Promise<RouterAddress> => {
    const bound = local ? await listenOn(local.server, port, host) : await pool!.listen(port, host);
    let adminBound: number;
    try {
      adminBound = await listenOn(adminServer, config.admin.port, config.admin.host);
    } catch (err) {
      await (local ? closeServer(local.server, 0) : pool!.close());
      throw err;
    }
    stopChecks ??= startHealthChecks(() => health.values(), { ...config.healthCheck, agent: checkAgent });
    return { port: bound, url: urlFor(host, bound), adminPort: adminBound, adminUrl: urlFor(config.admin.host, adminBound) };
  };

  const close = async (): Promise<void> => {
    stopChecks?.();
    stopChecks = null;
    // In-flight requests get their budget to finish (in every worker); then the sockets go.
    await Promise.all([local?.close() ?? pool!.close(), closeServer(adminServer, 1000)]);
    checkAgent.destroy();
    await Promise.all([events?.close(), servedBy?.close()]);
  };

  return router;
}

/** Copies a worker's batch of lines into the log's buffer (all but its last newline, which the log adds). */
function copyLines(buf: Buffer, at: number, bytes: Uint8Array): number {
  buf.set(bytes.subarray(0, bytes.length - 1), at);
  return at + bytes.length - 1;
}
