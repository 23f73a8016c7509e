import cluster, { type Worker } from "node:cluster";
import { fileURLToPath } from "node:url";
import { AggregatorRegistry } from "prom-client";
import type { RouterConfig } from "./config.ts";
import { WORKER_CONFIG_ENV, type ToPrimary, type ToWorker } from "./cluster-messages.ts";
import { RouterError } from "./errors.ts";
import type { Release } from "./state.ts";

const WORKER_MAIN = fileURLToPath(new URL("./worker-main.ts", import.meta.url));
const ROOT = fileURLToPath(new URL("../../..", import.meta.url));
/** How long an admin call waits for every worker to confirm a change. */
const APPLY_TIMEOUT_MS = 5000;
/** How often upstream health marks are compared with what the workers were last told. */
const HEALTH_PUSH_MS = 50;

/** The primary's view of the routing state, pushed to every worker. */
export interface SharedState {
  generation: number;
  releases: Release[];
  /** Upstream URLs out of rotation. */
  down: string[];
}

export interface WorkerPoolDeps {
  current: () => SharedState;
  /** Whole lines from a worker's batch, for the primary's one writer of each log. */
  onLog: (stream: "events" | "servedBy", bytes: Uint8Array) => void;
  /** A worker's failed tries took an upstream out of rotation. */
  onEject: (url: string, error: string) => void;
  onPopular: (list: string) => void;
  onError: (message: string) => void;
}

export interface WorkerPool {
  /** Forks the workers; each applies the current state, then listens on the shared port. Resolves the bound port. */
  listen(port: number, host: string): Promise<number>;
  /** Pushes the current state; resolves once every live worker has applied it (RouterError after 5 s). */
  apply(): Promise<void>;
  /** Every worker's data-plane series, summed by prom-client's AggregatorRegistry. */
  metrics(): Promise<string>;
  /** Drains every worker (in-flight requests finish, last log lines arrive), then resolves. */
  close(): Promise<void>;
}

interface Member {
  /** It has said it listens for messages (anything sent before would be lost). */
  ready: boolean;
  /** It has served: one that dies later is replaced (one that dies starting up is not, or a broken start would loop). */
  listening: boolean;
  applied: number;
  /** Resolves once the worker has exited and its IPC channel is closed (every message it sent was read). */
  done: Promise<unknown>;
}

/**
 * The public data plane served by `count` worker processes (node:cluster; the primary accepts
 * connections and hands them round-robin to the workers). The primary keeps the routing state
 * and pushes every change to the workers; a worker that dies is replaced while the others keep
 * serving. Workers run src/worker-main.ts (through tsx, like the stub upstreams).
 *
 *     const pool = createWorkerPool(2, config, { current, onLog, onEject, onPopular, onError });
 *     const port = await pool.listen(8082, "0.0.0.0");
 */
export function createWorkerPool(count: number, config: RouterConfig, deps: WorkerPoolDeps): WorkerPool {
  const aggregator = new AggregatorRegistry();
  const members = new Map<Worker, Member>();
  const waiters = new Set<{ generation: number; resolve: () => void }>();
  let closing = false;
  let lastDown = "";
  let healthTimer: NodeJS.Timeout | null = null;

  const settle = (): void => {
    for (const w of waiters) {
      // A worker still starting serves nothing yet, and gets the state current when it is ready.
      if ([...members.values()].every((m) => !m.ready || m.applied >= w.generation)) {
        waiters.delete(w);
        w.resolve();
      }
    }
  };
  const send = (worker: Worker, message: ToWorker): void => {
    if (worker.isConnected() && members.get(worker)?.ready) worker.send(message);
  };
  const stateMessage = (): Extract<ToWorker, { t: "state" }> => ({ t: "state", ...deps.current() });

  const fork = (port: number, host: string): Promise<number> => {
    cluster.setupPrimary({ exec: WORKER_MAIN, execArgv: ["--import", "tsx"], cwd: ROOT, serialization: "advanced" });
    const worker = cluster.fork({ [WORKER_CONFIG_ENV]: JSON.stringify(config) });
    const member: Member = { ready: false, listening: false, applied: 0, done: Promise.all([ended(worker, "exit"), ended(worker, "disconnect")]) };
    members.set(worker, member);
    return new Promise((resolve, reject) => {
      worker.on("message", (m: ToPrimary) => {
        switch (m.t) {
          case "ready":
            member.ready = true;
            // Closed while it was starting: it stops at once.
            if (closing) return send(worker, { t: "close" });
            send(worker, stateMessage());
            return send(worker, { t: "listen", port, host });
          case "applied": member.applied = m.generation; return settle();
          case "listening":
            member.listening = true;
            return resolve(m.port);
          case "listenFailed": return reject(Object.assign(new Error(m.message), { code: m.code }));
          case "log": return deps.onLog(m.stream, m.bytes);
          case "eject": return deps.onEject(m.url, m.error);
          case "popular": return deps.onPopular(m.list);
          case "closed": return; // done waits for the exit and the channel's end, which follow
        }
      });
      worker.once("exit", (code, signal) => {
        members.delete(worker);
        settle();
        reject(new Error(`router worker exited (${signal ?? code}) before listening`));
        if (closing || !member.listening) return;
        deps.onError(`worker ${worker.process.pid} exited (${signal ?? code}); starting another`);
        fork(port, host).catch((err: Error) => { if (!closing) deps.onError(`replacing a worker: ${err.message}`); });
      });
    });
  };

  const pushHealth = (): void => {
    const { down } = deps.current();
    const key = down.join(" ");
    if (key === lastDown) return;
    lastDown = key;
    for (const w of members.keys()) send(w, { t: "health", down });
  };

  const close = async (): Promise<void> => {
    closing = true;
    if (healthTimer) clearInterval(healthTimer);
    const all = [...members];
    for (const [w] of all) send(w, { t: "close" });
    await Promise.all(all.map(([, m]) => m.done));
  };

  return {
    async listen(port, host) {
      lastDown = deps.current().down.join(" ");
      healthTimer = setInterval(pushHealth, HEALTH_PUSH_MS).unref();
      try {
        // Replacements ask for the same port as the first ones (0 included): cluster shares one
        // listening handle per requested address, so they join it rather than bind another.
        const ports = await Promise.all(Array.from({ length: count }, () => fork(port, host)));
        return ports[0];
      } catch (err) {
        await close();
        throw err;
      }
    },
    apply() {
      const message = stateMessage();
      for (const w of members.keys()) send(w, message);
      lastDown = message.down.join(" ");
      return new Promise((resolve, reject) => {
        const waiter = { generation: message.generation, resolve: () => { clearTimeout(timer); resolve(); } };
        const timer = setTimeout(() => {
          waiters.delete(waiter);
          reject(new RouterError("workersBehind", `not every router worker confirmed generation ${message.generation} within ${APPLY_TIMEOUT_MS} ms; it applies when they catch up`));
        }, APPLY_TIMEOUT_MS);
        waiters.add(waiter);
        settle();
      });
    },
    metrics: () => aggregator.clusterMetrics(),
    close,
  };
}

/** Resolves on the worker's event; never rejects (events.once would, on a send 'error', with nobody awaiting yet). */
function ended(worker: Worker, event: "exit" | "disconnect"): Promise<void> {
  return new Promise((resolve) => worker.once(event, () => resolve()));
}
