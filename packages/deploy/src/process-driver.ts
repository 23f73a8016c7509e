import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, openSync, closeSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { ReplicaStartError, badDeployInput } from "./errors.ts";
import { freePort } from "./free-port.ts";
import { httpCall, sleep } from "./http.ts";
import type { Replica, ReplicaDriver, ReplicaSpec, StopOptions } from "./driver.ts";

export interface ProcessDriverOptions {
  /** Where each replica writes `<id>.log` (stdout+stderr) and its API telemetry (`<id>/`). */
  logDir: string;
  /** The CLI entry; default the workspace's packages/cli/src/main.ts. */
  cliPath?: string;
  /** Working directory of the replicas (must resolve `tsx`); default the workspace root. */
  cwd?: string;
  host?: string;
  /** Base environment of every replica; default this process's. */
  env?: Record<string, string | undefined>;
  readyTimeoutMs?: number;
  /** SIGTERM, then SIGKILL after this long. */
  graceMs?: number;
  /**
   * Replicas outlive this process (own process group, no pipes): for `recsys deploy`, which
   * exits while the platform keeps running. Attached replicas are killed when this process exits.
   */
  detached?: boolean;
}

const DEFAULT_CLI = fileURLToPath(new URL("../../cli/src/main.ts", import.meta.url));

/**
 * The local-process driver: each replica is `node --import tsx <cli> serve --model DIR --port P
 * --host 127.0.0.1 --release ID --log-dir DIR` on a free loopback port; `start` resolves once
 * GET /readyz answers 200 and fails (killing the child, quoting its log) if it exits first or
 * is not ready in time. `stop` sends SIGTERM (the API drains and flushes), then SIGKILL after
 * `graceMs`; it also stops replicas of earlier runs by pid.
 *
 *     const driver = createProcessDriver({ logDir: "runs/platform/replicas" });
 *     const r = await driver.start({ releaseId: "r1", modelDir: "models/current" });
 *     await driver.stop(r, { drainMs: 200 });
 */
export function createProcessDriver(options: ProcessDriverOptions): ReplicaDriver {
  const cliPath = resolve(options.cliPath ?? DEFAULT_CLI);
  const cwd = resolve(options.cwd ?? join(dirname(cliPath), "../../.."));
  const host = options.host ?? "127.0.0.1";
  const readyTimeoutMs = options.readyTimeoutMs ?? 30_000;
  const graceMs = options.graceMs ?? 5_000;
  const logDir = resolve(options.logDir);
  if (graceMs < 0 || readyTimeoutMs <= 0) throw badDeployInput("process driver", "graceMs must be >= 0 and readyTimeoutMs > 0");
  const children = new Map<string, { replica: Replica; child: ChildProcess }>();

  const killAllOnExit = () => { for (const { child } of children.values()) child.kill("SIGKILL"); };
  if (!options.detached) process.once("exit", killAllOnExit);

  async function startOnce(spec: ReplicaSpec): Promise<Replica | "port-taken"> {
    const port = spec.port ?? (await freePort(host));
    const id = `${spec.releaseId}@${port}`;
    const logFile = join(logDir, `${id}.log`);
    mkdirSync(logDir, { recursive: true });
    const out = openSync(logFile, "a");
    const args = ["--import", "tsx", cliPath, "serve", "--model", resolve(spec.modelDir), "--port", String(port), "--host", host,
      "--release", spec.releaseId, "--log-dir", join(logDir, id)];
    let child: ChildProcess;
    try {
      child = spawn(process.execPath, args, {
        cwd, env: { ...(options.env ?? process.env), ...spec.env }, stdio: ["ignore", out, out], detached: options.detached ?? false,
      });
    } finally {
      closeSync(out); // the child holds its own copy of the descriptor
    }
    let exited: string | undefined;
    child.once("exit", (code, signal) => (exited = signal ?? `exit code ${code}`));
    const deadline = Date.now() + readyTimeoutMs;
    while (exited === undefined && Date.now() < deadline) {
      if ((await httpCall("GET", `http://${host}:${port}/readyz`, { timeoutMs: 500 })).status === 200) {
        const replica: Replica = { id, url: `http://${host}:${port}`, releaseId: spec.releaseId, modelDir: resolve(spec.modelDir),
          driver: "process", handle: String(child.pid), telemetryDir: join(logDir, id), startedAt: new Date().toISOString() };
        if (options.detached) child.unref();
        else children.set(id, { replica, child });
        child.once("exit", () => children.delete(id));
        return replica;
      }
      await sleep(100);
    }
    const log = tail(logFile);
    if (exited !== undefined && spec.port === undefined && /EADDRINUSE/.test(log)) return "port-taken";
    if (exited === undefined) await stopPid(child.pid!, child, 0);
    throw new ReplicaStartError(id, `${exited ?? `not ready after ${readyTimeoutMs} ms`}; log ${logFile}: ${log}`);
  }

  async function stopPid(pid: number, child: ChildProcess | undefined, drainMs: number): Promise<void> {
    if (drainMs > 0) await sleep(drainMs);
    const gone = child ? exitOf(child) : pollGone(pid);
    if (!signal(pid, "SIGTERM")) return;
    if (await Promise.race([gone.then(() => true), sleep(graceMs).then(() => false)])) return;
    signal(pid, "SIGKILL");
    await Promise.race([gone, sleep(2_000)]);
  }

  return {
    name: "process",
    async start(spec) {
      // A free port can be taken between our probe and the child's bind: try a few others.
      for (let attempt = 0; attempt < 3; attempt++) {
        const result = await startOnce(spec);
        if (result !== "port-taken") return result;
      }
      throw new ReplicaStartError(spec.releaseId, "three free ports were taken before the replica could bind");
    },
    async stop(replica: Replica, stopOptions: StopOptions = {}) {
      const own = children.get(replica.id);
      const pid = Number(replica.handle);
      if (!Number.isInteger(pid) || pid <= 0) throw badDeployInput(`replica ${replica.id}`, `handle '${replica.handle}' is not a pid`);
      await stopPid(pid, own?.child, stopOptions.drainMs ?? 0);
      children.delete(replica.id);
    },
    list: () => [...children.values()].map((c) => c.replica),
  };
}

/** Sends a signal; false when the process is already gone. */
function signal(pid: number, sig: NodeJS.Signals | 0): boolean {
  try {
    process.kill(pid, sig);
    return true;
  } catch {
    return false;
  }
}

function exitOf(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once("exit", () => resolve()));
}

/** A process we did not spawn (an earlier deploy's): poll until signal 0 fails. */
async function pollGone(pid: number): Promise<void> {
  while (signal(pid, 0)) await sleep(50);
}

function tail(file: string): string {
  try {
    return readFileSync(file, "utf8").trim().split("\n").slice(-5).join(" | ") || "(empty)";
  } catch {
    return "(no log)";
  }
}
