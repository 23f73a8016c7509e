import { open, readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { z } from "zod";
import { parseOrThrow, writeFileAtomic } from "@recsys/core";
import { badDeployInput, platformBusy } from "./errors.ts";
import type { Replica } from "./driver.ts";

/** Files of a platform's state directory (default `runs/platform/`). */
export const STATE_FILES = {
  /** Where the router is and what runs: rewritten atomically after every step of a deploy. */
  state: "state.json",
  /** Release history, one JSON line per deploy. */
  releases: "releases.jsonl",
  /** Held (created exclusively) while a deploy runs. */
  lock: "deploy.lock",
  /** The router's request log (stream format) and its `.releases.csv` side file. */
  events: "events.log",
  /** The canary analysis of each decided deploy as an HTML report: `reports/<release>.html`. */
  reports: "reports",
  /** Replica logs and API telemetry, one entry per replica id. */
  replicas: "replicas",
  /** Each release's manifest, written before its first replica starts: `manifests/<release>.json`. */
  manifests: "manifests",
  /** The router's generated admin token (0600), when the platform was not given RECSYS_ADMIN_TOKEN. */
  adminToken: "admin-token",
} as const;

const ReplicaSchema = z.object({
  id: z.string(), url: z.string(), releaseId: z.string(), modelDir: z.string(), driver: z.string(), handle: z.string(), telemetryDir: z.string().nullable(), startedAt: z.string(),
});

/**
 * `state.json`. The admin token is never stored here (RECSYS_ADMIN_TOKEN, or the owner-only
 * `admin-token` file beside it). `router.pid`
 * is set when the platform started the router as a process of its own.
 */
export const PlatformStateSchema = z.object({
  version: z.literal(1),
  /** `adminUrl`: the router's admin listener (apart from the public `url` since the admin API moved off it). */
  router: z.object({ url: z.string(), adminUrl: z.string(), pid: z.number().int().positive().nullable().default(null) }),
  /** The router's request log and releases CSV, read by the canary analysis. */
  eventLog: z.object({ path: z.string(), releasesPath: z.string() }),
  /** The release serving all traffic between deploys. */
  stable: z.object({ releaseId: z.string(), modelHash: z.string(), modelDir: z.string() }),
  /** Every replica started and not yet stopped, whatever release it serves. */
  replicas: z.array(ReplicaSchema),
  updatedAt: z.string(),
});
export type PlatformState = z.infer<typeof PlatformStateSchema>;

export async function readPlatformState(stateDir: string): Promise<PlatformState | null> {
  const path = join(stateDir, STATE_FILES.state);
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw badDeployInput(path, `cannot read (${(err as NodeJS.ErrnoException).code})`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw badDeployInput(path, `not valid JSON (${(err as Error).message})`);
  }
  return parseOrThrow(PlatformStateSchema, json, path, "DEPLOY_BAD_INPUT");
}

export async function writePlatformState(stateDir: string, state: Omit<PlatformState, "updatedAt">, now = new Date()): Promise<PlatformState> {
  const full = { ...state, updatedAt: now.toISOString() };
  await writeFileAtomic(join(stateDir, STATE_FILES.state), JSON.stringify(full, null, 2) + "\n");
  return full;
}

export function withReplicas(state: Omit<PlatformState, "updatedAt">, add: Replica[], remove: Replica[] = []): Omit<PlatformState, "updatedAt"> {
  const gone = new Set(remove.map((r) => r.id));
  return { ...state, replicas: [...state.replicas.filter((r) => !gone.has(r.id)), ...add] };
}

/**
 * Takes the state directory's deploy lock (exclusive create); a lock left by a process that no
 * longer runs is taken over. Returns the release function.
 */
export async function lockPlatform(stateDir: string): Promise<() => Promise<void>> {
  const path = join(stateDir, STATE_FILES.lock);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fh = await open(path, "wx");
      await fh.writeFile(`${process.pid}\n`);
      await fh.close();
      return () => rm(path, { force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
      const holder = Number((await readFile(path, "utf8").catch(() => "")).trim());
      if (Number.isInteger(holder) && holder > 0 && alive(holder)) throw platformBusy(path, `pid ${holder}`);
      await rm(path, { force: true });
    }
  }
  throw platformBusy(path, "lock taken while retrying");
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
