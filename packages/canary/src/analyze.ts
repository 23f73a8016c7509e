import { CANARY_ERROR } from "./errors.ts";
import { InputError } from "@recsys/core";
import { canaryConfig, type CanaryConfig, type CanaryConfigInput } from "./config.ts";
import type { RequestRecord, WatchRecord } from "./records.ts";
import { indexWatches } from "./follow.ts";
import { poolStats, releaseStats, type ReleaseStats } from "./release-stats.ts";
import { buildTimeSeries, type TimeSeries } from "./time-series.ts";
import { decide, runChecks, type CanaryTests, type Verdict } from "./checks.ts";
import { groupCheck, type UserGroups } from "./groups.ts";

export interface AnalyzeCanaryInput {
  requests: readonly RequestRecord[];
  watches: readonly WatchRecord[];
  /** The release under test. */
  canary: string;
  /** Baseline releases, pooled into one arm; "others" (default) = every other release in the window. */
  stable?: readonly string[] | "others";
  /** Half-open window [windowStartMs, windowEndMs) of request times. */
  windowStartMs: number;
  windowEndMs: number;
  /**
   * Until when watches are known. A request is scored for quality only once its whole follow
   * window lies before this; default the latest time among requests and watches.
   */
  asOfMs?: number;
  /** Overrides of the defaults (validated; unknown keys rejected). */
  config?: CanaryConfigInput;
  /** The users' groups (loadUserGroups of a users file): adds the per-group follow-rate check. */
  userGroups?: UserGroups;
}

export interface CanaryAnalysis {
  verdict: Verdict;
  reasons: string[];
  canary: string;
  stable: string[];
  window: { startMs: number; endMs: number; asOfMs: number };
  config: CanaryConfig;
  /** Each analysed release (the canary and every stable one). */
  perRelease: Record<string, ReleaseStats>;
  /** The two arms compared: the canary and the stable releases pooled. */
  arms: { canary: ReleaseStats; stable: ReleaseStats };
  tests: CanaryTests;
  timeSeries: TimeSeries;
}

function latestTime(requests: readonly { timeMs: number }[], watches: readonly { timeMs: number }[]): number {
  let last = -Infinity;
  for (const r of requests) if (r.timeMs > last) last = r.timeMs;
  for (const w of watches) if (w.timeMs > last) last = w.timeMs;
  return last;
}

/**
 * Compares a canary release with the stable ones over a time window and returns a verdict
 * (promote, continue, rollback) with its evidence. Pure and in-memory, so a deploy loop can
 * call it every few seconds on the records it keeps; the loaders turn files into records.
 *
 *     const a = analyzeCanary({ requests, watches, canary: "r42", windowStartMs: t0, windowEndMs: t1 });
 *     if (a.verdict === "rollback") console.log(a.reasons.join("\n"));
 */
export function analyzeCanary(input: AnalyzeCanaryInput): CanaryAnalysis {
  const config = canaryConfig(input.config);
  const { canary, windowStartMs: startMs, windowEndMs: endMs } = input;
  if (!(endMs > startMs)) throw new InputError(CANARY_ERROR.badWindow, `canary window: end ${endMs} must be after start ${startMs}`);
  const stableSet = input.stable === undefined || input.stable === "others" ? null : new Set(input.stable);
  if (stableSet?.has(canary)) throw new InputError(CANARY_ERROR.badReleases, `canary release '${canary}' is also listed as stable`);

  const byRelease = new Map<string, RequestRecord[]>([[canary, []]]);
  for (const r of input.requests) {
    if (r.timeMs < startMs || r.timeMs >= endMs) continue;
    if (r.release !== canary && stableSet && !stableSet.has(r.release)) continue;
    let list = byRelease.get(r.release);
    if (!list) byRelease.set(r.release, (list = []));
    list.push(r);
  }
  for (const s of stableSet ?? []) if (!byRelease.has(s)) byRelease.set(s, []);
  const stable = [...byRelease.keys()].filter((k) => k !== canary).sort();

  const asOfMs = input.asOfMs ?? Math.max(startMs, latestTime(input.requests, input.watches));
  const follow = { index: indexWatches(input.watches, startMs, endMs + config.followWindowMs, input.requests), followWindowMs: config.followWindowMs, asOfMs };
  const perRelease: Record<string, ReleaseStats> = {};
  for (const release of [canary, ...stable]) perRelease[release] = releaseStats(byRelease.get(release)!, follow);
  const arms = { canary: perRelease[canary]!, stable: poolStats(stable.map((s) => byRelease.get(s)!), stable.map((s) => perRelease[s]!)) };

  const stableRequests = stable.flatMap((s) => byRelease.get(s)!);
  const groups = input.userGroups ? groupCheck(byRelease.get(canary)!, stableRequests, input.userGroups, follow, config) : null;
  const tests: CanaryTests = { ...runChecks(arms.canary, arms.stable, config), groups };
  const { verdict, reasons } = decide(tests, arms.canary.requests, config);
  const ordered = new Map([canary, ...stable].map((k) => [k, byRelease.get(k)!] as const));
  return {
    verdict, reasons, canary, stable,
    window: { startMs, endMs, asOfMs },
    config, perRelease, arms, tests,
    timeSeries: buildTimeSeries(ordered, startMs, endMs, config.timeSeriesBuckets),
  };
}
