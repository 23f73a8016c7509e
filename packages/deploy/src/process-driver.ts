import type { ChildProcess } from "node:child_process";
import { join, resolve } from "node:path";
import { ReplicaStartError, badDeployInput } from "./errors.ts";
import { freePort, startOnFreePort } from "./free-port.ts";
import { DEFAULT_CLI, spawnCli, stopProcess, workspaceOf } from "./spawn.ts";
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
  const cwd = resolve(options.cwd ?? workspaceOf(cliPath));
  const host = options.host ?? "127.0.0.1";
  const readyTimeoutMs = options.readyTimeoutMs ?? 30_000;
  const graceMs = options.graceMs ?? 5_000;
  const logDir = resolve(options.logDir);
  if (graceMs < 0 || readyTimeoutMs <= 0) throw badDeployInput("process driver", "graceMs must be >= 0 and readyTimeoutMs > 0");
  const children = new Map<string, { replica: Replica; child: ChildProcess }>();
  if (!options.detached) process.once("exit", () => { for (const { child } of children.values()) child.kill("SIGKILL"); });

  async function startOnce(spec: ReplicaSpec): Promise<Replica | "port-taken"> {
    const port = spec.port ?? (await freePort(host));
    const id = `${spec.releaseId}@${port}`;
    const modelDir = resolve(spec.modelDir);
    const started = await spawnCli({
      cliPath, cwd, detached: options.detached ?? false, logFile: join(logDir, `${id}.log`),
      args: ["serve", "--model", modelDir, "--port", String(port), "--host", host, "--release", spec.releaseId, "--log-dir", join(logDir, id)],
      env: { ...(options.env ?? process.env), ...spec.env }, readyUrl: `http://${host}:${port}/readyz`, readyTimeoutMs,
    });
    if (!started.ok) {
      // A free port can be taken between our probe and the child's bind.
      if (spec.port === undefined && /EADDRINUSE/.test(started.log)) return "port-taken";
      throw new ReplicaStartError(id, `${started.why}; log ${join(logDir, `${id}.log`)}: ${started.log}`);
    }
    const { child } = started;
    const replica: Replica = { id, url: `http://${host}:${port}`, releaseId: spec.releaseId, modelDir, driver: "process",
      handle: String(child.pid), telemetryDir: join(logDir, id), startedAt: new Date().toISOString() };
    if (!options.detached) {
      children.set(id, { replica, child });
      child.once("exit", () => children.delete(id));
    }
    return replica;
  }

  return {
    name: "process",
    start: (spec) => startOnFreePort(spec.releaseId, () => startOnce(spec)),
    async stop(replica: Replica, stopOptions: StopOptions = {}) {
      const pid = Number(replica.handle);
      if (!Number.isInteger(pid) || pid <= 0) throw badDeployInput(`replica ${replica.id}`, `handle '${replica.handle}' is not a pid`);
      await stopProcess(pid, children.get(replica.id)?.child, { drainMs: stopOptions.drainMs, graceMs });
      children.delete(replica.id);
    },
    list: () => [...children.values()].map((c) => c.replica),
  };
}
