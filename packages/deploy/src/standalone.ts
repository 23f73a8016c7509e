import { rm } from "node:fs/promises";
import { join, resolve } from "node:path";
import { writeFileAtomic } from "@recsys/core";
import { platformAdminToken, removeAdminToken, writeAdminToken } from "./admin-token.ts";
import { bootStable, recordFirst } from "./boot.ts";
import { badDeployInput, noPlatform, ReplicaStartError } from "./errors.ts";
import { freePort } from "./free-port.ts";
import { checkDeployable } from "./model-check.ts";
import { createProcessDriver } from "./process-driver.ts";
import { DEFAULT_CLI, spawnCli, stopProcess, workspaceOf } from "./spawn.ts";
import { STATE_FILES, readPlatformState, type PlatformState } from "./state.ts";

export interface InitPlatformOptions {
  modelDir: string;
  /** Default `runs/platform`. */
  stateDir?: string;
  /** Stable replicas, default 2. */
  replicas?: number;
  /** Default 8082 (the router's usual port); 0 = a free one. */
  routerPort?: number;
  /** The router's admin listener on 127.0.0.1: default 8092 (a free one when routerPort is 0); 0 = a free one. */
  adminPort?: number;
  /** The router's admin token (RECSYS_ADMIN_TOKEN); default a random one in STATE/admin-token (0600), read by later deploys. */
  adminToken?: string;
  env?: Record<string, string | undefined>;
  /** Start from a git tree with uncommitted changes (recorded in the release manifest). */
  allowDirty?: boolean;
}

/**
 * `recsys deploy --init`: starts a platform that outlives the command, all as detached local
 * processes: `replicas` stable API replicas of `modelDir` and a router (`recsys route --config
 * STATE/router.json`, admin token passed in its environment: RECSYS_ADMIN_TOKEN, or a generated
 * one kept only in the owner-only STATE/admin-token) in front of them; writes state.json (with
 * the router's pid) and the "initial" release line.
 *
 *     const state = await initPlatform({ modelDir: "models/m1", adminToken: process.env.RECSYS_ADMIN_TOKEN });
 */
export async function initPlatform(o: InitPlatformOptions): Promise<PlatformState> {
  await checkDeployable(o.modelDir); // a gate-failed model is the first thing to hear about (exit 3)
  const { token, generated } = platformAdminToken(o.adminToken || undefined);
  const stateDir = resolve(o.stateDir ?? "runs/platform");
  const env = { ...(o.env ?? process.env), RECSYS_ADMIN_TOKEN: token };
  const driver = createProcessDriver({ logDir: join(stateDir, STATE_FILES.replicas), detached: true, env });
  const first = await bootStable({ modelDir: o.modelDir, stateDir, driver, replicas: o.replicas ?? 2, allowDirty: o.allowDirty });
  try {
    const port = o.routerPort === 0 ? await freePort() : (o.routerPort ?? 8082);
    const wantAdmin = o.adminPort ?? (o.routerPort === 0 ? 0 : 8092);
    const adminPort = wantAdmin === 0 ? await freePort() : wantAdmin;
    const configPath = join(stateDir, "router.json");
    await writeFileAtomic(configPath, JSON.stringify({
      port, host: "127.0.0.1", admin: { host: "127.0.0.1", port: adminPort }, eventLog: first.eventLog,
      releases: [{ id: first.releaseId, role: "stable", upstreams: first.replicas.map((r) => r.url), weight: 100 }],
    }, null, 2) + "\n");
    const url = `http://127.0.0.1:${port}`;
    const router = await spawnCli({
      cliPath: DEFAULT_CLI, cwd: workspaceOf(DEFAULT_CLI), args: ["route", "--config", configPath], env, detached: true,
      logFile: join(stateDir, "router.log"), readyUrl: `${url}/readyz`, readyTimeoutMs: 30_000,
    });
    if (!router.ok) throw new ReplicaStartError(`router ${url}`, `${router.why}; log ${join(stateDir, "router.log")}: ${router.log}`);
    await recordFirst(stateDir, first, { url, adminUrl: `http://127.0.0.1:${adminPort}`, pid: router.child.pid! });
    if (generated) await writeAdminToken(stateDir, token);
  } catch (err) {
    await Promise.all(first.replicas.map((r) => driver.stop(r)));
    throw err;
  }
  return (await readPlatformState(stateDir))!;
}

/**
 * `recsys deploy --down`: stops a platform started by `--init`: the router first (it drains
 * in-flight requests and flushes its event log), then every replica in state.json; removes
 * state.json (the release history stays). Returns what was stopped.
 */
export async function stopStandalonePlatform(stateDir = "runs/platform"): Promise<string[]> {
  const dir = resolve(stateDir);
  const state = await readPlatformState(dir);
  if (!state) throw noPlatform(`${join(dir, STATE_FILES.state)} does not exist: nothing to stop`);
  if (state.router.pid === null) throw badDeployInput(join(dir, STATE_FILES.state), "the router runs inside another process (startPlatform): stop it there");
  const foreign = state.replicas.find((r) => r.driver !== "process");
  if (foreign) throw badDeployInput(join(dir, STATE_FILES.state), `replica ${foreign.id} runs under driver '${foreign.driver}', which --down cannot stop`);
  await stopProcess(state.router.pid, undefined, { graceMs: 5_000 });
  await Promise.all(state.replicas.map((r) => stopProcess(Number(r.handle), undefined, { graceMs: 5_000 })));
  await rm(join(dir, STATE_FILES.state), { force: true });
  await removeAdminToken(dir);
  return [`router ${state.router.url}`, ...state.replicas.map((r) => r.id)];
}
