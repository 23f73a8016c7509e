import { join } from "node:path";
import { z } from "zod";
import { parseOrThrow, sleepUnless } from "@recsys/core";
import { writeCanaryReport, type CanaryAnalysis, type CanaryConfigInput } from "@recsys/canary";
import { analyzeWindow, evidenceOf } from "./analysis.ts";
import { DEPLOY_ERRORS, badDeployInput, noPlatform } from "./errors.ts";
import { MANIFEST_ENV, releaseGit, writeManifest } from "./manifest.ts";
import { checkDeployable } from "./model-check.ts";
import { appendRelease, releaseIdFor, type ReleaseRecord } from "./releases.ts";
import { promoteCanary, rollbackCanary, retire, track, type Session } from "./rollout.ts";
import { STATE_FILES, lockPlatform, readPlatformState, writePlatformState } from "./state.ts";
import type { Replica, ReplicaDriver } from "./driver.ts";
import type { RouterAdmin } from "./router-admin.ts";

/** Deploy settings; defaults in one place, unknown keys rejected. */
export const DeployOptionsSchema = z.strictObject({
  /** The canary's share of traffic while it is analysed (the issue's 20%). */
  canaryWeight: z.number().int().min(1).max(99).default(20),
  /** Time between two analyses of the window since the canary took traffic. */
  intervalMs: z.number().int().min(50).max(3_600_000).default(10_000),
  /** No promote/rollback verdict by then: `onMaxWait` decides ("inconclusive"). */
  maxWaitMs: z.number().int().min(100).max(7 * 86_400_000).default(600_000),
  onMaxWait: z.enum(["rollback", "promote"]).default("rollback"),
  /** Time a replica the router no longer sends to gets for in-flight requests before SIGTERM. */
  drainMs: z.number().int().min(0).max(60_000).default(500),
  /** Overrides of the canary package's thresholds (success rate, p99, minimum requests...). */
  canary: z.custom<CanaryConfigInput>((v) => typeof v === "object" && v !== null).optional(),
  /** An event stream with watch lines, for the quality test. */
  watchesPath: z.string().min(1).optional(),
  /** A users file (users.jsonl): the analysis compares follow rates per user group too (needs watchesPath). */
  usersPath: z.string().min(1).optional(),
  /** Extra environment for the new replicas. */
  env: z.record(z.string(), z.string()).default({}),
  /** The release's git commit; default `git rev-parse HEAD` of `cwd` (RECSYS_GIT_COMMIT wins). */
  commit: z.string().min(1).optional(),
  /** Release from a git tree with uncommitted changes (else refused, exit 2); recorded in the manifest. RECSYS_ALLOW_DIRTY=1 does the same. */
  allowDirty: z.boolean().default(false),
  signal: z.custom<AbortSignal>((v) => v instanceof AbortSignal).optional(),
  log: z.custom<(line: string) => void>((v) => typeof v === "function").optional(),
  /**
   * Gets every analysis of the canary and its one-line summary (which then does not go to `log`):
   * for a live view of the canary's progress, with the full lines kept elsewhere.
   */
  onAnalysis: z.custom<(analysis: CanaryAnalysis, line: string) => void>((v) => typeof v === "function").optional(),
  /**
   * The fairness gate (`@recsys/fairness`'s `fairnessGate`, bound to the model's data and config by
   * the caller): run on the candidate before its canary starts; a failed verdict refuses the
   * release (verdict "refused", exit 4) and nothing starts. Passed in, so deploy needs no training data.
   */
  fairness: z.custom<(modelDir: string) => Promise<FairnessCheck>>((v) => typeof v === "function").optional(),
});
export type DeployOptions = z.input<typeof DeployOptionsSchema>;

/** What the fairness gate returns: the verdict and a one-line reason; the whole value (its evidence too) goes into the record. */
export type FairnessCheck = { passed: boolean; reason: string };

/** Where a deploy goes: the replica driver, the router's admin API and the state directory. */
export interface DeployTarget {
  driver: ReplicaDriver;
  router: RouterAdmin;
  stateDir: string;
  /** The checkout whose HEAD is the release's commit; default the current directory. */
  cwd?: string;
  env?: Record<string, string | undefined>;
}

/**
 * Deploys a model as a canary and follows it to the end: refuses a gate-failed model before
 * anything starts; starts one canary replica; gives it `canaryWeight`% of traffic; every
 * `intervalMs` analyses the window since then (canary package) until the verdict is promote
 * or rollback, or `maxWaitMs` passes (then `onMaxWait`, default rollback); then promotes
 * (replacing the stable replicas one at a time) or rolls back (canary weight 0 at once, canary
 * stopped). Appends the outcome to `releases.jsonl` and returns it; a deploy that breaks
 * half-way returns traffic to the stable release, records verdict "failed", and rethrows.
 *
 *     const record = await deployModel({ driver, router, stateDir }, "models/next", { intervalMs: 5000 });
 *     record.verdict // "promoted" | "rolled-back"
 */
export async function deployModel(target: DeployTarget, modelDir: string, options: DeployOptions = {}): Promise<ReleaseRecord> {
  const opts = parseOrThrow(DeployOptionsSchema, options, "deploy options", DEPLOY_ERRORS.badInput);
  const model = await checkDeployable(modelDir);
  const cwd = target.cwd ?? process.cwd();
  const git = await releaseGit(cwd, target.env ?? {}, opts);
  const current = await readPlatformState(target.stateDir);
  if (!current) throw noPlatform(`${join(target.stateDir, STATE_FILES.state)} does not exist: no platform runs from this state directory (start one first)`);
  const unlock = await lockPlatform(target.stateDir);
  try {
    const log = opts.log ?? (() => {});
    const s: Session = { driver: target.driver, router: target.router, stateDir: target.stateDir, state: current, drainMs: opts.drainMs, log };
    await clearLeftovers(s);
    const commit = git.commit;
    const stableId = s.state.stable.releaseId;
    let releaseId = releaseIdFor(new Date(), model.modelHash);
    if (releaseId === stableId) releaseId += "-2";
    // The gate runs before the manifest is written so the manifest records its verdict too.
    let fairness: FairnessCheck | undefined;
    if (opts.fairness) {
      log(`fairness gate on ${model.modelId}`);
      fairness = await opts.fairness(model.modelDir);
      log(fairness.reason);
    }
    const manifest = await writeManifest(target.stateDir, { releaseId, model, git, env: target.env ?? {}, fairness });
    const env = { ...opts.env, RECSYS_GIT_COMMIT: commit, [MANIFEST_ENV]: manifest.md5 };
    const base = {
      releaseId, modelId: model.modelId, modelHash: model.modelHash, modelDir: model.modelDir, dataHash: model.dataHash, commit,
      previousReleaseId: stableId, startedAt: new Date().toISOString(), manifestMd5: manifest.md5,
    };
    let canaryAt: number | null = null;
    let decidedAt: string | null = null;
    let evidence: unknown = null;
    const finish = async (verdict: ReleaseRecord["verdict"], reason: string, replicas: Replica[]): Promise<ReleaseRecord> => {
      const record: ReleaseRecord = {
        ...base, verdict, reason, canaryAt: canaryAt === null ? null : new Date(canaryAt).toISOString(), decidedAt,
        finishedAt: new Date().toISOString(), evidence, replicas: replicas.map((r) => r.id), ...(fairness && { fairness }),
      };
      await appendRelease(join(target.stateDir, STATE_FILES.releases), record);
      log(`release ${releaseId}: ${verdict} (${reason})`);
      return record;
    };
    try {
      if (fairness && !fairness.passed) {
        decidedAt = new Date().toISOString();
        return await finish("refused", fairness.reason, []);
      }
      const canary = await s.driver.start({ releaseId, modelDir: model.modelDir, env });
      await track(s, [canary]);
      const stableUrls = s.state.replicas.filter((r) => r.releaseId === stableId).map((r) => r.url);
      await s.router.setReleases([
        { id: stableId, role: "stable", upstreams: stableUrls, weight: 100 - opts.canaryWeight },
        { id: releaseId, role: "canary", upstreams: [canary.url], weight: opts.canaryWeight },
      ]);
      canaryAt = Date.now();
      log(`canary ${canary.id} takes ${opts.canaryWeight}% of traffic`);
      const decision = await watchCanary(s, releaseId, stableId, canaryAt, opts);
      decidedAt = new Date().toISOString();
      evidence = decision.evidence;
      if (decision.verdict === "rollback") {
        await rollbackCanary(s, canary);
        return await finish("rolled-back", decision.reason, []);
      }
      const fresh = await promoteCanary(s, canary, env, { releaseId, modelHash: model.modelHash, modelDir: model.modelDir });
      return await finish("promoted", decision.reason, fresh);
    } catch (err) {
      // Whatever broke, traffic goes back to the stable release and the new release's replicas stop.
      if (s.state.stable.releaseId !== releaseId) {
        await rollbackCanary(s, null).catch(() => {});
        await retire(s, s.state.replicas.filter((r) => r.releaseId === releaseId)).catch(() => {});
      }
      await finish("failed", (err as Error).message, s.state.replicas.filter((r) => r.releaseId === releaseId)).catch(() => {});
      throw err;
    } finally {
      await writePlatformState(s.stateDir, s.state);
    }
  } finally {
    await unlock();
  }
}

interface Decision {
  verdict: "promote" | "rollback";
  reason: string;
  evidence: unknown;
}

/** The analysis loop: every interval, the window [canaryAt, now), until a verdict or max-wait. */
async function watchCanary(s: Session, canary: string, stable: string, canaryAt: number, opts: z.output<typeof DeployOptionsSchema>): Promise<Decision> {
  for (;;) {
    await sleepUnless(opts.intervalMs, opts.signal);
    const now = Date.now();
    if (opts.signal?.aborted) return { verdict: "rollback", reason: "deploy aborted", evidence: null };
    const replicas = s.state.replicas.filter((r) => r.releaseId === canary || r.releaseId === stable);
    const a = await analyzeWindow({ replicas, canary, stable, windowStartMs: canaryAt, windowEndMs: now, config: opts.canary, watchesPath: opts.watchesPath, usersPath: opts.usersPath });
    const summary = `canary ${a.arms.canary.requests} requests, stable ${a.arms.stable.requests}`;
    const line = `analysis after ${Math.round((now - canaryAt) / 1000)} s: ${a.verdict} (${summary}${a.reasons.length ? `; ${a.reasons.join("; ")}` : ""})`;
    if (opts.onAnalysis) opts.onAnalysis(a, line);
    else s.log(line);
    const decision = decide(a, summary, now - canaryAt, opts);
    if (decision) {
      // The evidence as people read it: charts of latency, success and quality per release.
      const report = join(s.stateDir, STATE_FILES.reports, `${canary}.html`);
      await writeCanaryReport(report, a);
      s.log(`canary report: ${report}`);
      return decision;
    }
  }
}

/** The verdict of one analysis, or null to keep watching. */
function decide(a: CanaryAnalysis, summary: string, elapsedMs: number, opts: z.output<typeof DeployOptionsSchema>): Decision | null {
  const evidence = evidenceOf(a);
  if (a.verdict !== "continue") return { verdict: a.verdict, reason: a.reasons.join("; ") || a.verdict, evidence };
  if (opts.watchesPath === undefined && servingChecksPass(a)) {
    // Without a watch stream the quality test can never leave "insufficient": judge on availability and latency (as Flagger does).
    return { verdict: "promote", reason: `${summary}; availability and latency pass; quality not judged (no watch stream)`, evidence };
  }
  if (elapsedMs >= opts.maxWaitMs) {
    const why = `inconclusive after max-wait ${Math.round(opts.maxWaitMs / 1000)} s (${summary}; ${a.reasons.join("; ") || "no verdict"}): ${opts.onMaxWait}`;
    return { verdict: opts.onMaxWait, reason: why, evidence };
  }
  return null;
}

/** Availability and p99 both pass and the canary has served enough requests to promote. */
function servingChecksPass(a: CanaryAnalysis): boolean {
  return a.tests.availability.status === "pass" && a.tests.latency.status === "pass" && a.arms.canary.requests >= a.config.minRequests;
}

/**
 * A deploy that crashed can leave a canary in the router and replicas of other releases in the
 * state: route everything to the stable release again and stop those replicas first.
 */
async function clearLeftovers(s: Session): Promise<void> {
  const stableId = s.state.stable.releaseId;
  const releases = await s.router.releases();
  const stable = releases.find((r) => r.role === "stable");
  if (!stable || stable.id !== stableId) {
    throw badDeployInput(join(s.stateDir, STATE_FILES.state), `router ${s.router.url} serves stable release '${stable?.id}', the state file says '${stableId}': wrong --router or --state?`);
  }
  if (releases.length > 1) {
    s.log(`clearing a leftover canary (${releases.filter((r) => r.role !== "stable").map((r) => r.id).join(", ")})`);
    await rollbackCanary(s, null);
  }
  const stray = s.state.replicas.filter((r) => r.releaseId !== stableId);
  if (stray.length) await retire(s, stray);
}
