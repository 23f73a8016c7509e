import { chown, mkdir } from "node:fs/promises";
import { join, resolve } from "node:path";
import Docker from "dockerode";
import { sleep } from "@recsys/core";
import { ReplicaStartError, badDeployInput, dockerUnavailable } from "./errors.ts";
import { freePort, startOnFreePort } from "./free-port.ts";
import { httpCall } from "./http.ts";
import { checkDeployable } from "./model-check.ts";
import { stopProcess } from "./spawn.ts";
import type { Replica, ReplicaDriver, ReplicaSpec, StopOptions } from "./driver.ts";

/** Labels every replica container carries: `docker ps --filter label=org.recsys.release=R` finds a release. */
export const DOCKER_LABELS = {
  driver: "org.recsys.driver",
  release: "org.recsys.release",
  modelHash: "org.recsys.model-hash",
  dataHash: "org.recsys.data-hash",
  commit: "org.opencontainers.image.revision",
  modelDir: "org.recsys.model-dir",
  telemetryDir: "org.recsys.telemetry-dir",
  port: "org.recsys.port",
  startedAt: "org.recsys.started-at",
} as const;

/** Requests a new container answers before it is reported ready (and so before it gets traffic). */
const WARM_UP_REQUESTS = 20;

/** The image's non-root user (docker/Dockerfile): owns the telemetry directory when we run as root. */
const IMAGE_UID = 10001;

export interface DockerDriverOptions {
  /** Image serving the replicas, e.g. `recsys:<commit>` from docker/build-image.sh. */
  image: string;
  /** Each replica's telemetry goes to `<logDir>/<id>/` on the host (bind-mounted at /logs). */
  logDir: string;
  /** A dockerode client; default the local engine (DOCKER_HOST or /var/run/docker.sock). */
  docker?: Docker;
  host?: string;
  /** Added to every replica's environment (RECSYS_GIT_COMMIT is set by the deploy). */
  env?: Record<string, string | undefined>;
  readyTimeoutMs?: number;
  /** `docker stop`'s grace: SIGTERM, then SIGKILL after this long. */
  graceMs?: number;
}

/**
 * The Docker `ReplicaDriver`: each replica is a container of `image` running `recsys serve`
 * on host networking and a free loopback port, with the model directory mounted read-only
 * and its telemetry directory mounted at /logs. Containers carry the release, the model and
 * data hashes and the commit as labels, so `docker ps` and `docker inspect` say what serves;
 * `recover()` finds the replicas of an earlier deploying process again by those labels.
 * `start` resolves once /readyz answers 200 and fails with the container's last log lines if
 * it exits first (it is then removed); `stop` drains, `docker stop`s and removes.
 *
 *     const driver = createDockerDriver({ image: "recsys:latest", logDir: "runs/platform/replicas" });
 *     const r = await driver.start({ releaseId: "r1", modelDir: "models/current" });
 *     await driver.stop(r, { drainMs: 200 });
 */
export function createDockerDriver(options: DockerDriverOptions): ReplicaDriver & { recover(): Promise<Replica[]> } {
  const docker = options.docker ?? new Docker();
  const host = options.host ?? "127.0.0.1";
  const readyTimeoutMs = options.readyTimeoutMs ?? 30_000;
  const graceMs = options.graceMs ?? 5_000;
  const logDir = resolve(options.logDir);
  if (!options.image) throw badDeployInput("docker driver", "image is required (build one with docker/build-image.sh)");
  if (graceMs < 0 || readyTimeoutMs <= 0) throw badDeployInput("docker driver", "graceMs must be >= 0 and readyTimeoutMs > 0");
  const running = new Map<string, Replica>();

  async function startOnce(spec: ReplicaSpec): Promise<Replica | "port-taken"> {
    // The labels need the model's hashes; a model the API could not load fails here as it
    // would in the container (the deploy has checked it before, this is for direct callers).
    const model = await checkDeployable(spec.modelDir).catch((err: Error) => {
      throw new ReplicaStartError(spec.releaseId, `model ${spec.modelDir} cannot be served: ${err.message}`);
    });
    const port = spec.port ?? (await freePort(host));
    const id = `${spec.releaseId}@${port}`;
    const telemetryDir = join(logDir, id);
    await mkdir(telemetryDir, { recursive: true });
    // Root on the host: the container keeps the image's user and gets the directory; anyone
    // else: the container runs as them, so they can read and remove what it writes.
    const asRoot = process.getuid?.() === 0;
    if (asRoot) await chown(telemetryDir, IMAGE_UID, IMAGE_UID);
    const env = { ...options.env, ...spec.env };
    const commit = env.RECSYS_GIT_COMMIT ?? "unknown";
    const startedAt = new Date().toISOString();
    const container = await engine("create a container", () => docker.createContainer({
      Image: options.image,
      name: `recsys-${spec.releaseId}-${port}`.replace(/[^a-zA-Z0-9_.-]/g, "-"),
      Cmd: ["serve", "--model", "/model", "--port", String(port), "--host", host, "--release", spec.releaseId, "--log-dir", "/logs"],
      // A TTY: the log is plain text (no multiplexed frames to take apart) for start failures.
      Tty: true,
      Env: Object.entries(env).flatMap(([k, v]) => (v === undefined ? [] : [`${k}=${v}`])),
      User: asRoot ? undefined : `${process.getuid?.()}:${process.getgid?.()}`,
      Labels: {
        [DOCKER_LABELS.driver]: "docker", [DOCKER_LABELS.release]: spec.releaseId, [DOCKER_LABELS.modelHash]: model.modelHash,
        [DOCKER_LABELS.dataHash]: model.dataHash, [DOCKER_LABELS.commit]: commit, [DOCKER_LABELS.modelDir]: model.modelDir,
        [DOCKER_LABELS.telemetryDir]: telemetryDir, [DOCKER_LABELS.port]: String(port), [DOCKER_LABELS.startedAt]: startedAt,
      },
      Healthcheck: { Test: ["CMD", "node", "-e", `fetch("http://${host}:${port}/readyz").then(r=>process.exit(r.ok?0:1),()=>process.exit(1))`], Interval: 5e9, Timeout: 10e9, Retries: 3 },
      HostConfig: { NetworkMode: "host", Binds: [`${model.modelDir}:/model:ro`, `${telemetryDir}:/logs`] },
    }));
    await engine(`start container ${id}`, () => container.start());
    const url = `http://${host}:${port}`;
    const deadline = Date.now() + readyTimeoutMs;
    let exited: string | undefined;
    while (Date.now() < deadline) {
      if ((await httpCall("GET", `${url}/readyz`, { timeoutMs: 500 })).status === 200) {
        // A fresh container's first answers are slow (cold JIT, empty caches; on a loaded machine
        // past nginx's 700 ms read timeout): a few of them here, before any user's request.
        for (let user = 1; user <= WARM_UP_REQUESTS; user++) await httpCall("GET", `${url}/recommend/${user}`, { timeoutMs: 2000 });
        const replica: Replica = { id, url, releaseId: spec.releaseId, modelDir: model.modelDir, driver: "docker", handle: container.id, telemetryDir, startedAt };
        running.set(id, replica);
        return replica;
      }
      const state = (await container.inspect()).State;
      if (!state.Running) {
        exited = `exit code ${state.ExitCode}`;
        break;
      }
      await sleep(100);
    }
    const log = await lastLines(container);
    await container.remove({ force: true }).catch(() => undefined);
    // A free port can be taken between our probe and the container's bind.
    if (spec.port === undefined && /EADDRINUSE/.test(log)) return "port-taken";
    throw new ReplicaStartError(id, `${exited ?? `not ready after ${readyTimeoutMs} ms`}; container log: ${log}`);
  }

  return {
    name: "docker",
    start: (spec) => startOnFreePort(spec.releaseId, () => startOnce(spec)),
    async stop(replica: Replica, stopOptions: StopOptions = {}) {
      // A platform moving from processes to containers: its old stable replicas are processes,
      // and a promotion must stop them, not look for a container with a pid's name.
      if (replica.driver === "process") return stopProcess(Number(replica.handle), undefined, { drainMs: stopOptions.drainMs, graceMs });
      if (stopOptions.drainMs) await sleep(stopOptions.drainMs);
      const container = docker.getContainer(replica.handle);
      // docker stop: SIGTERM (the API drains and flushes its log), SIGKILL after the grace.
      await gone(container.stop({ t: Math.ceil(graceMs / 1000) }));
      await gone(container.remove({ force: true }));
      running.delete(replica.id);
    },
    list: () => [...running.values()],
    async recover() {
      const found = await engine("list containers", () => docker.listContainers({ filters: { label: [`${DOCKER_LABELS.driver}=docker`], status: ["running"] } }));
      for (const c of found) {
        const l = c.Labels;
        const port = l[DOCKER_LABELS.port]!;
        const replica: Replica = { id: `${l[DOCKER_LABELS.release]}@${port}`, url: `http://${host}:${port}`, releaseId: l[DOCKER_LABELS.release]!,
          modelDir: l[DOCKER_LABELS.modelDir]!, driver: "docker", handle: c.Id, telemetryDir: l[DOCKER_LABELS.telemetryDir] ?? null, startedAt: l[DOCKER_LABELS.startedAt]! };
        running.set(replica.id, replica);
      }
      return [...running.values()];
    },
  };

  /** One engine call; an engine that does not answer, or a missing image, becomes a coded error. */
  async function engine<T>(what: string, call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (err) {
      const e = err as { statusCode?: number; code?: string; message?: string };
      if (e.code === "ENOENT" || e.code === "ECONNREFUSED") throw dockerUnavailable("docker driver", `no Docker engine answers (${e.code}); start dockerd or set DOCKER_HOST`);
      if (e.statusCode === 404 && what === "create a container") throw dockerUnavailable(`image ${options.image}`, "not found; build it with docker/build-image.sh");
      throw dockerUnavailable("docker driver", `${what} failed: ${e.message ?? String(err)}`);
    }
  }
}

/**
 * What a container gets of the deploying process's environment: the RECSYS_ settings only
 * (the host's PATH, HOME and the like would break the image's own).
 */
export function replicaEnv(env: Record<string, string | undefined>): Record<string, string | undefined> {
  return Object.fromEntries(Object.entries(env).filter(([k]) => k.startsWith("RECSYS_") && k !== "RECSYS_IMAGE"));
}

/** A container that is already stopped or removed is not an error. */
async function gone(call: Promise<unknown>): Promise<void> {
  try {
    await call;
  } catch (err) {
    const status = (err as { statusCode?: number }).statusCode;
    if (status !== 304 && status !== 404 && status !== 409) throw err;
  }
}

async function lastLines(container: Docker.Container): Promise<string> {
  const raw = await container.logs({ stdout: true, stderr: true, tail: 5, follow: false }).catch(() => Buffer.from("(no log)"));
  return raw.toString("utf8").trim().split(/\r?\n/).join(" | ") || "(empty)";
}
