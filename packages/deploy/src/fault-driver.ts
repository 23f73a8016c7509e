import { createServer, request, type Server } from "node:http";
import { join } from "node:path";
import { TELEMETRY_HEADER, createLineLog, createRng, formatEventTime } from "@recsys/core";
import { ReplicaStartError, badDeployInput } from "./errors.ts";
import { freePort } from "./free-port.ts";
import type { Replica, ReplicaDriver, ReplicaSpec } from "./driver.ts";

export interface Faults {
  /** Share of /recommend answers replaced by a 500 (0..1). */
  errorRate?: number;
  /** Added to every /recommend answer, failed or not. */
  delayMs?: number;
  /** The replica never becomes ready (a crash-looping release): started, then stopped, then reported. */
  startFails?: boolean;
  /**
   * A replica that serves some users badly: the 200 body answered instead of the real one for
   * these users (null = the real answer), e.g. a list none of one group's users will watch.
   */
  answerFor?: (userId: string) => string | null;
  seed?: number;
}

export interface FaultyDriverOptions {
  /** Which replicas get faults (e.g. a given release id); others pass through untouched. */
  faultsFor: (spec: ReplicaSpec) => Faults | null;
  /** Where each faulty replica's own response log goes (`<id>/responses-*.csv`). */
  logDir: string;
}

/**
 * Failure injection around any real driver, for canary drills and tests: a matching replica
 * is started by `inner` as usual and fronted by a loopback proxy that fails or slows
 * /recommend answers (health and version calls pass through). The proxy logs what it
 * answered in the API's response-log format, and the replica's `telemetryDir` points there,
 * so the canary analysis sees the faults exactly as a broken replica would show them.
 *
 *     const driver = createFaultyDriver(createProcessDriver({ logDir }), {
 *       logDir, faultsFor: (spec) => (spec.modelDir.endsWith("bad") ? { errorRate: 0.3 } : null),
 *     });
 */
export function createFaultyDriver(inner: ReplicaDriver, options: FaultyDriverOptions): ReplicaDriver {
  const proxies = new Map<string, { server: Server; inner: Replica; close: () => Promise<void>; replica: Replica }>();
  return {
    name: `${inner.name}+faults`,
    async start(spec) {
      const replica = await inner.start(spec);
      const faults = options.faultsFor(spec);
      if (!faults) return replica;
      if (faults.startFails) {
        await inner.stop(replica);
        throw new ReplicaStartError(replica.id, "injected fault: the replica never became ready");
      }
      const errorRate = faults.errorRate ?? 0, delayMs = faults.delayMs ?? 0;
      if (!(errorRate >= 0 && errorRate <= 1) || !(delayMs >= 0)) throw badDeployInput("faults", "errorRate must be in 0..1 and delayMs >= 0");
      const rng = createRng(faults.seed ?? 1);
      const port = await freePort();
      const id = `${replica.id}+faults`;
      const telemetryDir = join(options.logDir, id);
      const log = createLog(telemetryDir);
      const target = new URL(replica.url);
      const server = createServer((req, res) => {
        const t0 = performance.now();
        const path = req.url ?? "/";
        const isRecommend = path.startsWith("/recommend/");
        const answer = (status: number, body: string, headers: Record<string, string>) => {
          if (isRecommend) log.write(replica, path.slice("/recommend/".length), status, performance.now() - t0, body);
          res.writeHead(status, { ...headers, "content-length": String(Buffer.byteLength(body)) });
          res.end(body);
        };
        const forward = () => {
          const up = request({ hostname: target.hostname, port: target.port, path, method: req.method, headers: req.headers }, (upRes) => {
            let body = "";
            upRes.setEncoding("utf8");
            upRes.on("data", (c) => (body += c));
            upRes.on("end", () => answer(upRes.statusCode ?? 502, body, { "content-type": String(upRes.headers["content-type"] ?? "text/plain") }));
          });
          up.on("error", (err) => answer(502, `upstream: ${err.message}`, { "content-type": "text/plain" }));
          req.pipe(up);
        };
        if (!isRecommend) return forward();
        const fail = rng.next() < errorRate;
        const canned = faults.answerFor?.(path.slice("/recommend/".length)) ?? null;
        setTimeout(() => (fail ? answer(500, "injected fault", { "content-type": "text/plain" }) : canned !== null ? answer(200, canned, { "content-type": "text/plain" }) : forward()), delayMs);
      });
      await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
      const fronted: Replica = { ...replica, id, url: `http://127.0.0.1:${port}`, telemetryDir };
      proxies.set(id, { server, inner: replica, close: log.close, replica: fronted });
      return fronted;
    },
    async stop(replica, stopOptions) {
      const proxy = proxies.get(replica.id);
      if (!proxy) return inner.stop(replica, stopOptions);
      proxies.delete(replica.id);
      await inner.stop(proxy.inner, stopOptions);
      await new Promise<void>((resolve) => proxy.server.close(() => resolve()));
      await proxy.close();
    },
    list() {
      const fronted = new Map([...proxies.values()].map((p) => [p.inner.id, p.replica]));
      return inner.list().map((r) => fronted.get(r.id) ?? r);
    },
  };
}

/** The proxy's response log: the API's columns, through core's buffered line log. */
function createLog(dir: string) {
  const path = join(dir, `responses-${new Date().toISOString().slice(0, 10).replaceAll("-", "")}.csv`);
  const lines = createLineLog({ path, flushMs: 200, header: TELEMETRY_HEADER.join(",") });
  let n = 0;
  return {
    write(replica: Replica, userId: string, status: number, latencyMs: number, body: string) {
      const result = status === 200 ? body.trim().split(",").join("|") : "injected fault";
      lines.write(`${formatEventTime(Date.now())},fault-${n++},${userId},${status},${latencyMs.toFixed(3)},${replica.releaseId},unknown,,,${result},`);
    },
    close: () => lines.close(),
  };
}
