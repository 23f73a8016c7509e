/**
 * Where replicas run. The deploy logic only sees this interface, so a Docker driver
 * (dockerode) can sit next to the local-process driver without touching it.
 */

/** What to run: one API replica serving `modelDir` as release `releaseId`. */
export interface ReplicaSpec {
  releaseId: string;
  modelDir: string;
  /** Fixed port; default a free loopback port. */
  port?: number;
  /** Extra environment for the replica (RECSYS_GIT_COMMIT is set by the deploy). */
  env?: Record<string, string>;
}

/** A running, ready replica. Plain data: it is written to the platform state file as is. */
export interface Replica {
  /** Unique while it runs: `<releaseId>@<port>` for the process driver. */
  id: string;
  /** Base URL the router sends traffic to, `http://127.0.0.1:<port>`. */
  url: string;
  releaseId: string;
  modelDir: string;
  /** Which driver started it (`process`, later `docker`). */
  driver: string;
  /** Driver-specific handle that survives a restart of the deploying process: a pid, a container id. */
  handle: string;
  /** Directory of the replica's per-response CSV logs (`responses-*.csv`, rotated ones `.csv.gz`), read by the canary analysis. */
  telemetryDir: string | null;
  startedAt: string;
}

export interface StopOptions {
  /** Wait this long before asking the replica to stop: in-flight requests the router already sent finish. */
  drainMs?: number;
}

export interface ReplicaDriver {
  readonly name: string;
  /** Starts a replica and resolves once it answers its readiness check (GET /readyz 200). */
  start(spec: ReplicaSpec): Promise<Replica>;
  /**
   * Drains and stops a replica (SIGTERM, then SIGKILL after a grace period for processes).
   * Works for replicas started by an earlier process too (through `handle`); stopping one that
   * is already gone is not an error.
   */
  stop(replica: Replica, options?: StopOptions): Promise<void>;
  /** Replicas this driver started and that still run. */
  list(): Replica[];
}
