import { join, resolve } from "node:path";
import { rm } from "node:fs/promises";
import { createRouter, type RouterConfigInput } from "@recsys/router";
import { platformAdminToken, removeAdminToken, writeAdminToken } from "./admin-token.ts";
import { deployModel, type DeployOptions } from "./deploy.ts";
import { badDeployInput } from "./errors.ts";
import { bootStable, recordFirst } from "./boot.ts";
import { readReleases, type ReleaseRecord } from "./releases.ts";
import { createRouterAdmin, type RouterRelease } from "./router-admin.ts";
import { STATE_FILES, readPlatformState, type PlatformState } from "./state.ts";
import type { Replica, ReplicaDriver } from "./driver.ts";

export interface PlatformOptions {
  /** The first stable release's model (must pass the gate). */
  modelDir: string;
  driver: ReplicaDriver;
  /** state.json, releases.jsonl, the router's event log. */
  stateDir: string;
  /** Stable replicas (the two at 40% + 40% next to a 20% canary). */
  replicas?: number;
  /** 0 = a free port. */
  routerPort?: number;
  host?: string;
  /**
   * Admin Bearer token (>= 16 characters, e.g. RECSYS_ADMIN_TOKEN); default a random one, readable
   * on the Platform and written to STATE/admin-token (owner-only) for `recsys deploy` until stop().
   */
  adminToken?: string;
  commit?: string;
  /** Release from a git tree with uncommitted changes, the first release and every deploy (recorded in each manifest). */
  allowDirty?: boolean;
  /** Router settings beyond releases/port/host/token/eventLog (budgetMs, healthCheck...). */
  router?: Omit<RouterConfigInput, "releases" | "port" | "host" | "adminToken" | "eventLog">;
  /** Defaults for every `deploy` of this platform. */
  deployDefaults?: DeployOptions;
  log?: (line: string) => void;
}

export interface PlatformStatus {
  state: PlatformState;
  router: RouterRelease[];
  releases: ReleaseRecord[];
}

export interface Platform {
  routerUrl: string;
  /** The router's admin listener (loopback, an ephemeral port unless `router.admin` says otherwise). */
  adminUrl: string;
  adminToken: string;
  stateDir: string;
  /**
   * Canary, analysis, promote or rollback; one at a time (calls queue). A deploy from another
   * process (`recsys deploy`) in progress is not waited for: DEPLOY_BUSY, nothing started.
   */
  deploy(modelDir: string, options?: DeployOptions): Promise<ReleaseRecord>;
  status(): Promise<PlatformStatus>;
  /**
   * Rolls back a deploy in progress (at its next check), then stops the router (in-flight
   * requests finish, logs flush) and every replica; state.json goes, the history stays.
   */
  stop(): Promise<void>;
}

/**
 * Starts a whole platform in this process: `replicas` stable replicas of `modelDir` through
 * the driver, an in-process router in front of them (admin API on its own loopback port, event log in
 * `stateDir`), state.json and an "initial" record in releases.jsonl. The returned handle runs
 * deploys against it: the closed loop calls `platform.deploy(newModelDir)` every cycle.
 *
 *     const platform = await startPlatform({ modelDir: "models/m1", driver: createProcessDriver({ logDir }), stateDir });
 *     const record = await platform.deploy("models/m2", { intervalMs: 5000 });
 *     await platform.stop();
 */
export async function startPlatform(options: PlatformOptions): Promise<Platform> {
  const stateDir = resolve(options.stateDir);
  const { token: adminToken, generated } = platformAdminToken(options.adminToken);
  const log = options.log ?? (() => {});
  const first = await bootStable({ modelDir: options.modelDir, stateDir, driver: options.driver, replicas: options.replicas ?? 2, commit: options.commit, allowDirty: options.allowDirty });
  const { releaseId, replicas: stable, eventLog, commit } = first;
  const router = createRouter({
    ...options.router, port: options.routerPort ?? 0, host: options.host ?? "127.0.0.1", adminToken, eventLog,
    admin: { host: "127.0.0.1", port: 0, ...options.router?.admin },
    releases: [{ id: releaseId, role: "stable", upstreams: stable.map((r) => r.url), weight: 100 }],
  });
  let routerUrl: string;
  let adminUrl: string;
  try {
    ({ url: routerUrl, adminUrl } = await router.listen());
  } catch (err) {
    await Promise.all(stable.map((r) => options.driver.stop(r)));
    throw err;
  }
  await recordFirst(stateDir, first, { url: routerUrl, adminUrl, pid: null });
  if (generated) await writeAdminToken(stateDir, adminToken);
  const tokenAt = generated ? `; admin token in ${join(stateDir, STATE_FILES.adminToken)} (owner-only)` : "";
  log(`platform up: router ${routerUrl}, release ${releaseId} on ${stable.map((r) => r.url).join(", ")}${tokenAt}`);

  const admin = createRouterAdmin(adminUrl, adminToken);
  const target = { driver: options.driver, router: admin, stateDir, env: process.env };
  let queue: Promise<unknown> = Promise.resolve();
  let stopped = false;
  // stop() during a deploy: the canary is rolled back at its next check instead of being waited out.
  const stopping = new AbortController();
  return {
    routerUrl, adminUrl, adminToken, stateDir,
    deploy(modelDir, deployOptions = {}) {
      if (stopped) return Promise.reject(badDeployInput("platform", "stopped; start a new one"));
      const merged = { commit, log, allowDirty: options.allowDirty, ...options.deployDefaults, ...deployOptions };
      const signal = merged.signal ? AbortSignal.any([merged.signal, stopping.signal]) : stopping.signal;
      const run = queue.then(() => deployModel(target, modelDir, { ...merged, signal }));
      queue = run.catch(() => {});
      return run;
    },
    async status() {
      const state = await readPlatformState(stateDir);
      if (!state) throw badDeployInput(stateDir, "state.json is gone (platform stopped?)");
      return { state, router: await admin.releases(), releases: await readReleases(join(stateDir, STATE_FILES.releases)) };
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      stopping.abort();
      await queue;
      const state = await readPlatformState(stateDir);
      await router.close();
      await Promise.all((state?.replicas ?? []).map((r: Replica) => options.driver.stop(r)));
      await rm(join(stateDir, STATE_FILES.state), { force: true });
      if (generated) await removeAdminToken(stateDir);
    },
  };
}
