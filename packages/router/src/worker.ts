import { AggregatorRegistry } from "prom-client";
import { WORKER_CONFIG_ENV, type ToPrimary, type ToWorker } from "./cluster-messages.ts";
import { parseRouterConfig } from "./config.ts";
import { createDataPlane } from "./data-plane.ts";
import { listenOn } from "./http-server.ts";
import { createRouterMetrics } from "./metrics.ts";
import { createPopularList } from "./popular.ts";
import { servedLogger, type LineSink } from "./served-log.ts";
import { buildTable, type RouteTable } from "./table.ts";
import type { Upstream } from "./upstreams.ts";

/** A worker's log lines go to the primary at least this often (and whenever a batch is full). */
const BATCH_MS = 50;
const BATCH_BYTES = 64 * 1024;

/**
 * One worker of a multi-process router (see cluster.ts): the public data plane on the shared
 * port, with the routing table and upstream health its primary pushes. Its log lines go to the
 * primary in batches of whole lines, so the primary stays the one writer of each log file; its
 * metrics are read by prom-client's AggregatorRegistry in the primary.
 */
export function runRouterWorker(): void {
  const config = parseRouterConfig(JSON.parse(process.env[WORKER_CONFIG_ENV] ?? "{}"), "router worker config");
  const tell = (m: ToPrimary): void => { if (process.connected) process.send!(m); };
  const health = new Map<string, Upstream>();
  const metrics = createRouterMetrics();
  // prom-client answers the primary's metric requests from these registries.
  AggregatorRegistry.setRegistries([metrics.registry]);
  new AggregatorRegistry();
  const popular = createPopularList({ ...config.popular });
  let table: RouteTable = buildTable(config.releases, health, metrics.forRelease);
  const events = config.eventLog ? batchTo("events", tell) : null;
  const servedBy = config.eventLog ? batchTo("servedBy", tell) : null;
  const plane = createDataPlane(config, {
    table: () => table, metrics, popular, nowMs: Date.now,
    onServed: events && servedBy ? servedLogger(config.serverName, events, servedBy) : () => {},
    onEjected: (up) => tell({ t: "eject", url: up.url, error: up.lastError }),
  });

  let popularSent: string | null = null;
  const sendBatches = (): void => {
    events?.send();
    servedBy?.send();
    const list = popular.current(Date.now());
    if (list !== null && list !== popularSent) tell({ t: "popular", list: (popularSent = list) });
  };
  const timer = setInterval(sendBatches, BATCH_MS);

  const markDown = (down: string[]): void => {
    const out = new Set(down);
    for (const up of health.values()) {
      up.healthy = !out.has(up.url);
      if (up.healthy) up.failures = 0;
    }
  };

  let closing = false;
  const close = async (): Promise<void> => {
    if (closing) return;
    closing = true;
    await plane.close();
    clearInterval(timer);
    sendBatches();
    // Exit only once the last message is in the pipe: the primary reads every line before it
    // sees the channel close.
    if (process.connected) await new Promise<void>((resolve) => process.send!({ t: "closed" } satisfies ToPrimary, undefined, {}, () => resolve()));
    process.exit(0);
  };

  process.on("message", (m: ToWorker) => {
    switch (m.t) {
      case "state":
        table = buildTable(m.releases, health, metrics.forRelease);
        markDown(m.down);
        return tell({ t: "applied", generation: m.generation });
      case "health": return markDown(m.down);
      case "listen":
        listenOn(plane.server, m.port, m.host).then(
          (port) => tell({ t: "listening", port }),
          (err: NodeJS.ErrnoException) => tell({ t: "listenFailed", code: err.code ?? "ERR", message: err.message }),
        );
        return;
      case "close": void close();
    }
  });
  tell({ t: "ready" });
  // The primary alone decides when workers stop (it drains them on its own SIGTERM); a terminal's
  // Ctrl-C reaches the whole process group, and a worker that died of it would lose its lines.
  process.on("SIGINT", () => {});
  process.on("SIGTERM", () => {});
  // (When the primary is gone, cluster's own handler ends the worker: nobody to hand lines to.)
}

/** A log sink that batches whole lines in memory and hands them to the primary. */
function batchTo(stream: "events" | "servedBy", tell: (m: ToPrimary) => void): LineSink & { send(): void } {
  let buf = Buffer.allocUnsafe(BATCH_BYTES);
  let used = 0;
  const send = (): void => {
    if (used === 0) return;
    // A copy: the batch buffer is reused at once, whatever IPC does with the message.
    tell({ t: "log", stream, bytes: Buffer.from(buf.subarray(0, used)) });
    used = 0;
  };
  return {
    send,
    writeWith(maxBytes, encode, arg) {
      if (used + maxBytes + 1 > buf.length) {
        send();
        if (maxBytes + 1 > buf.length) buf = Buffer.allocUnsafe(maxBytes + 1);
      }
      used = encode(buf, used, arg);
      buf[used++] = 0x0a;
    },
  };
}
