import { rm } from "node:fs/promises";
import { join, resolve } from "node:path";
import Docker from "dockerode";
import { bootStable, recordFirst } from "./boot.ts";
import { badDeployInput, noPlatform } from "./errors.ts";
import { createDockerDriver, replicaEnv } from "./docker-driver.ts";
import { findNginxFront, startNginxFront, FRONT_FILES } from "./nginx-front.ts";
import { STATE_FILES, readPlatformState, type PlatformState } from "./state.ts";
import type { Replica } from "./driver.ts";

export interface DockerPlatformOptions {
  modelDir: string;
  /** Default `runs/platform`. */
  stateDir?: string;
  /** Stable replicas, default 2. */
  replicas?: number;
  /** nginx's public port on 127.0.0.1, default 8180 (as in docker/compose.yaml). */
  port?: number;
  /** Replica image, default `recsys:latest`. */
  image?: string;
  /** Front image, default `recsys-nginx:offline` (docker/make-base-image.sh nginx; the official nginx image works too). */
  nginxImage?: string;
  /** The RECSYS_ settings of it go into every replica container. */
  env?: Record<string, string | undefined>;
  docker?: Docker;
}

/**
 * `recsys deploy --init --driver docker --front nginx`: the Docker path's platform: `replicas`
 * stable containers of `modelDir` and an nginx container in front of them, all labelled, all
 * outliving the command; writes state.json (router = the nginx front, no pid) and the first
 * release line. Later deploys find the front again by label.
 *
 *     await initDockerPlatform({ modelDir: "models/m1", stateDir: "runs/docker", port: 8180 });
 */
export async function initDockerPlatform(o: DockerPlatformOptions): Promise<PlatformState> {
  const stateDir = resolve(o.stateDir ?? "runs/platform");
  const driver = dockerDriverFor(stateDir, o);
  const first = await bootStable({ modelDir: o.modelDir, stateDir, driver, replicas: o.replicas ?? 2 });
  try {
    const front = await startNginxFront({
      stateDir, docker: o.docker, image: o.nginxImage ?? "recsys-nginx:offline", port: o.port ?? 8180,
      releases: [{ id: first.releaseId, role: "stable", upstreams: first.replicas.map((r) => r.url), weight: 100 }],
    });
    // The front's access log is the stream-format request log; the analysis reads the replicas' own CSVs.
    const eventLog = join(stateDir, FRONT_FILES.dir, FRONT_FILES.accessLog);
    await recordFirst(stateDir, { ...first, eventLog: { path: eventLog, releasesPath: `${eventLog}.releases.csv` } }, { url: front.url, adminUrl: front.url, pid: null });
  } catch (err) {
    await Promise.all(first.replicas.map((r) => driver.stop(r)));
    throw err;
  }
  return (await readPlatformState(stateDir))!;
}

/** `recsys deploy --down --driver docker`: the nginx front first, then every replica container; state.json goes. */
export async function stopDockerPlatform(stateDir = "runs/platform", o: Pick<DockerPlatformOptions, "docker" | "image"> = {}): Promise<string[]> {
  const dir = resolve(stateDir);
  const state = await readPlatformState(dir);
  if (!state) throw noPlatform(`${join(dir, STATE_FILES.state)} does not exist: nothing to stop`);
  const foreign = state.replicas.find((r) => r.driver !== "docker");
  if (foreign) throw badDeployInput(join(dir, STATE_FILES.state), `replica ${foreign.id} runs under driver '${foreign.driver}': use recsys deploy --down without --driver docker`);
  const front = await findNginxFront({ stateDir: dir, docker: o.docker }).catch(() => null);
  await front?.stop();
  const driver = dockerDriverFor(dir, { image: o.image, docker: o.docker });
  await Promise.all(state.replicas.map((r) => driver.stop(r)));
  await rm(join(dir, STATE_FILES.state), { force: true });
  return [...(front ? [`nginx ${front.url}`] : []), ...state.replicas.map((r) => r.id)];
}

/**
 * Containers of this state directory that state.json does not list (a deploy killed between
 * starting a container and recording it): found by their labels and stopped. Returns them.
 */
export async function stopUnrecordedContainers(stateDir: string, o: Pick<DockerPlatformOptions, "docker" | "image"> = {}): Promise<Replica[]> {
  const dir = resolve(stateDir);
  const state = await readPlatformState(dir);
  if (!state) return [];
  const driver = dockerDriverFor(dir, o);
  const known = new Set(state.replicas.map((r) => r.handle));
  const replicasDir = join(dir, STATE_FILES.replicas);
  const strays = (await driver.recover()).filter((r) => !known.has(r.handle) && r.telemetryDir?.startsWith(replicasDir + "/"));
  await Promise.all(strays.map((r) => driver.stop(r)));
  return strays;
}

function dockerDriverFor(stateDir: string, o: Pick<DockerPlatformOptions, "docker" | "image" | "env">) {
  return createDockerDriver({ image: o.image ?? "recsys:latest", logDir: join(stateDir, STATE_FILES.replicas), docker: o.docker, env: replicaEnv(o.env ?? {}) });
}
