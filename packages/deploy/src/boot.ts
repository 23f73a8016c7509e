import { join } from "node:path";
import { badDeployInput } from "./errors.ts";
import { MANIFEST_ENV, releaseGit, writeManifest } from "./manifest.ts";
import { httpCall } from "./http.ts";
import { checkDeployable, type ModelIdentity } from "./model-check.ts";
import { appendRelease, releaseIdFor } from "./releases.ts";
import { STATE_FILES, readPlatformState, writePlatformState, type PlatformState } from "./state.ts";
import type { Replica, ReplicaDriver } from "./driver.ts";

/** The first stable release of a new platform, its replicas started and ready. */
export interface FirstRelease {
  model: ModelIdentity;
  releaseId: string;
  commit: string;
  manifestMd5: string;
  startedAt: string;
  replicas: Replica[];
  eventLog: PlatformState["eventLog"];
}

export interface BootOptions {
  modelDir: string;
  stateDir: string;
  driver: ReplicaDriver;
  replicas: number;
  commit?: string;
  /** Start from a git tree with uncommitted changes (recorded in the manifest); see DeployOptions. */
  allowDirty?: boolean;
}

/**
 * The common start of every platform (in-process or standalone): refuse a gate-failed model
 * and a state directory whose platform still runs, then start the stable replicas (all or none).
 */
export async function bootStable(o: BootOptions): Promise<FirstRelease> {
  if (!Number.isInteger(o.replicas) || o.replicas < 1 || o.replicas > 16) throw badDeployInput("replicas", "must be a whole number from 1 to 16");
  const model = await checkDeployable(o.modelDir);
  const git = await releaseGit(process.cwd(), process.env, o);
  await refuseRunningPlatform(o.stateDir);
  const commit = git.commit;
  const startedAt = new Date().toISOString();
  const releaseId = releaseIdFor(new Date(), model.modelHash);
  const { md5: manifestMd5 } = await writeManifest(o.stateDir, { releaseId, model, git, env: process.env });
  const env = { RECSYS_GIT_COMMIT: commit, [MANIFEST_ENV]: manifestMd5 };
  const started = await Promise.allSettled(Array.from({ length: o.replicas }, () => o.driver.start({ releaseId, modelDir: model.modelDir, env })));
  const replicas = started.flatMap((r) => (r.status === "fulfilled" ? [r.value] : []));
  const failed = started.find((r): r is PromiseRejectedResult => r.status === "rejected");
  if (failed) {
    await Promise.all(replicas.map((r) => o.driver.stop(r)));
    throw failed.reason;
  }
  const eventLog = { path: join(o.stateDir, STATE_FILES.events), releasesPath: join(o.stateDir, `${STATE_FILES.events}.releases.csv`) };
  return { model, releaseId, commit, manifestMd5, startedAt, replicas, eventLog };
}

/** Writes state.json and the "initial" line of releases.jsonl once the router is up. */
export async function recordFirst(stateDir: string, first: FirstRelease, router: PlatformState["router"]): Promise<void> {
  const { model, releaseId, replicas, eventLog } = first;
  await writePlatformState(stateDir, {
    version: 1, router, eventLog, stable: { releaseId, modelHash: model.modelHash, modelDir: model.modelDir }, replicas,
  });
  await appendRelease(join(stateDir, STATE_FILES.releases), {
    releaseId, verdict: "initial", reason: "platform started", modelId: model.modelId, modelHash: model.modelHash, modelDir: model.modelDir,
    dataHash: model.dataHash, commit: first.commit, previousReleaseId: null, startedAt: first.startedAt, canaryAt: null, decidedAt: null,
    finishedAt: new Date().toISOString(), evidence: null, replicas: replicas.map((r) => r.id), manifestMd5: first.manifestMd5,
  });
}

/** A state.json whose router still answers belongs to a running platform: do not start a second one over it. */
async function refuseRunningPlatform(stateDir: string): Promise<void> {
  const state = await readPlatformState(stateDir);
  if (!state) return;
  if ((await httpCall("GET", `${state.router.url}/healthz`, { timeoutMs: 500 })).status === 200) {
    throw badDeployInput(join(stateDir, STATE_FILES.state), `a platform already runs here (router ${state.router.url}); stop it or use another state directory`);
  }
}
