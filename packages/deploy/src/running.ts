import { join, resolve } from "node:path";
import { RecsysError, sleepUnless } from "@recsys/core";
import { deployAdminToken } from "./admin-token.ts";
import { deployModel, type DeployOptions, type DeployTarget } from "./deploy.ts";
import { badDeployInput, DEPLOY_ERRORS, noPlatform } from "./errors.ts";
import { checkDeployable } from "./model-check.ts";
import { createDockerDriver, replicaEnv } from "./docker-driver.ts";
import { stopUnrecordedContainers } from "./docker-platform.ts";
import { findNginxFront } from "./nginx-front.ts";
import { createProcessDriver } from "./process-driver.ts";
import type { ReleaseRecord } from "./releases.ts";
import { createRouterAdmin } from "./router-admin.ts";
import { STATE_FILES, readPlatformState } from "./state.ts";
import type { ReplicaDriver } from "./driver.ts";

/** The drivers `recsys deploy --driver` knows. */
export const DRIVERS = ["process", "docker"] as const;
export type DriverName = (typeof DRIVERS)[number];

/** The fronts `recsys deploy --front` knows: the project's router (admin API) or nginx (config + reload). */
export const FRONTS = ["router", "nginx"] as const;
export type FrontName = (typeof FRONTS)[number];

export interface RunningDeployOptions extends Omit<DeployOptions, "env"> {
  modelDir: string;
  /** Default `runs/platform`. */
  stateDir?: string;
  /** The router's admin URL; default the one in state.json. */
  routerUrl?: string;
  /** The router's admin Bearer token (RECSYS_ADMIN_TOKEN); default the platform's STATE/admin-token file. */
  adminToken?: string;
  driver?: DriverName;
  /** Default `router`; `nginx` needs the docker driver and a platform from `initDockerPlatform`. */
  front?: FrontName;
  env?: Record<string, string | undefined>;
}

/**
 * `recsys deploy` against a platform that runs in other processes (a `--init` one, or the main
 * job of `pnpm start`): reads state.json from the state directory, talks to the router's admin
 * API (URL from the state or `routerUrl`, token from RECSYS_ADMIN_TOKEN or else the platform's
 * owner-only STATE/admin-token file), and starts new replicas as detached processes that outlive
 * this one. A gate-failed model is refused first, before the state or the router are even read.
 * While another deploy holds the platform (the main job's own canary), this one waits its turn,
 * says so once through `log`, and gives up only when `signal` aborts: one canary at a time.
 *
 *     await deployToRunningPlatform({ modelDir: "models/next", adminToken: process.env.RECSYS_ADMIN_TOKEN });
 */
export async function deployToRunningPlatform(options: RunningDeployOptions): Promise<ReleaseRecord> {
  const { modelDir, stateDir: dir, routerUrl, adminToken, driver: driverName = "process", front = "router", env = {}, ...deployOptions } = options;
  await checkDeployable(modelDir);
  const stateDir = resolve(dir ?? "runs/platform");
  const state = await readPlatformState(stateDir);
  if (!state) throw noPlatform(`${join(stateDir, STATE_FILES.state)} does not exist: no platform runs from this state directory (--state DIR names it)`);
  if (front === "nginx") {
    if (driverName !== "docker") throw badDeployInput("--front nginx", "needs --driver docker (nginx reaches the replica containers)");
    const image = env.RECSYS_IMAGE ?? "recsys:latest";
    // A deploy killed before it recorded a container it started left it running: its labels find it.
    for (const r of await stopUnrecordedContainers(stateDir, { image })) deployOptions.log?.(`stopped container ${r.id}, left by an earlier deploy`);
    const driver = createDockerDriver({ image, logDir: join(stateDir, STATE_FILES.replicas), env: replicaEnv(env) });
    return deployInTurn({ driver, router: await findNginxFront({ stateDir }), stateDir, env }, modelDir, deployOptions);
  }
  const token = await deployAdminToken(adminToken, stateDir);
  const drivers: Record<DriverName, () => ReplicaDriver> = {
    process: () => createProcessDriver({ logDir: join(stateDir, STATE_FILES.replicas), detached: true, env }),
    // Containers outlive this process by nature; RECSYS_IMAGE picks the image (docker/build-image.sh).
    docker: () => createDockerDriver({ image: env.RECSYS_IMAGE ?? "recsys:latest", logDir: join(stateDir, STATE_FILES.replicas), env: replicaEnv(env) }),
  };
  const router = createRouterAdmin(routerUrl ?? state.router.adminUrl, token);
  return deployInTurn({ driver: drivers[driverName](), router, stateDir, env }, modelDir, deployOptions);
}

/** How often a waiting deploy looks whether the platform is free again. */
const TURN_POLL_MS = 500;

/**
 * deployModel, after any deploy that holds the platform's lock has finished: a busy platform
 * refuses before starting anything (no replica, no record), so trying again is safe.
 */
async function deployInTurn(target: DeployTarget, modelDir: string, options: DeployOptions): Promise<ReleaseRecord> {
  let told = false;
  for (;;) {
    try {
      return await deployModel(target, modelDir, options);
    } catch (err) {
      if (!(err instanceof RecsysError) || err.code !== DEPLOY_ERRORS.busy) throw err;
      if (!told) options.log?.(`waiting for our turn: ${err.message.replace(/; wait for it.*$/, "")}`);
      told = true;
      await sleepUnless(TURN_POLL_MS, options.signal);
      if (options.signal?.aborted) throw err; // stopped while waiting: nothing was started
    }
  }
}
