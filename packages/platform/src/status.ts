import type { CanaryAnalysis } from "@recsys/canary";
import type { PlatformStatus } from "@recsys/deploy";
import type { TrafficStats } from "./traffic.ts";

/** The canary under analysis, as far as it got towards a verdict. */
export interface CanaryProgress {
  release: string;
  /** Canary requests so far, and what a promotion needs. */
  requests: number;
  minRequests: number;
  /** Follow-eligible recommendations in the smaller arm, and what the quality test needs. */
  samples: number;
  minSamples: number;
  /** Canary follow rate minus stable's, with its 95 % interval (null until both arms have some). */
  followDiff: number | null;
  ci95: [number, number] | null;
  verdict: CanaryAnalysis["verdict"];
}

/** What the live view shows at one moment. */
export interface LiveStatus {
  platform: PlatformStatus;
  traffic: TrafficStats;
  /** The last analysis of the canary in flight; null when no canary is out. */
  canary: CanaryProgress | null;
}

/** The figures of one analysis that say how close the canary is to a verdict. */
export function canaryProgress(a: CanaryAnalysis): CanaryProgress {
  const q = a.tests.quality;
  return {
    release: a.canary, requests: a.arms.canary.requests, minRequests: a.config.minRequests,
    samples: Math.min(q.samples.canary, q.samples.stable), minSamples: q.minSamples,
    followDiff: q.diff, ci95: q.ci95, verdict: a.verdict,
  };
}

const signedPct = (x: number): string => `${x >= 0 ? "+" : ""}${(x * 100).toFixed(1)}%`;

function trafficText(stats: TrafficStats): string {
  const p99 = stats.p99Ms === null ? "-" : `${stats.p99Ms.toFixed(0)} ms`;
  const ok = stats.successRate === null ? "-" : `${(stats.successRate * 100).toFixed(2)}%`;
  return `${stats.rps.toFixed(1)} req/s  p99 ${p99}  ok ${ok}`;
}

function lastVerdict(status: PlatformStatus): string {
  const last = status.releases.at(-1);
  return last ? `${last.releaseId} ${last.verdict}` : "-";
}

/**
 * The one-line status for logs that are not a terminal: releases and their weights, the users'
 * view of the service over the last seconds (requests/s, p99, success rate), the last verdict.
 *
 *     formatStatus(status, stats) // "r-3f2a stable 80% | r-9c1d canary 20% | 39.8 req/s  p99 12 ms  ok 100.00% | last: r-9c1d promoted"
 */
export function formatStatus(status: PlatformStatus, stats: TrafficStats): string {
  const releases = status.router.map((r) => `${r.id} ${r.role} ${r.weight}%`).join(" | ");
  return `${releases} | ${trafficText(stats)} | last: ${lastVerdict(status)}`;
}

/**
 * The live view a terminal redraws in place: one short row each for the releases, the traffic,
 * the canary's progress towards a verdict (the releases row names it) and the last verdict.
 *
 *     formatLiveView(view)
 *     // ["releases  r-3f2a stable 80%  r-9c1d canary 20%", "traffic   39.8 req/s  p99 12 ms  ok 100.00%",
 *     //  "canary    84/100 requests  312/100 follow samples  diff -1.2% [-4.0%, +1.6%]  continue",
 *     //  "last      r-7a01 promoted"]
 */
export function formatLiveView(view: LiveStatus): string[] {
  const c = view.canary;
  const diff = c?.followDiff != null && c.ci95 ? `diff ${signedPct(c.followDiff)} [${signedPct(c.ci95[0])}, ${signedPct(c.ci95[1])}]` : "diff -";
  const routed = view.platform.router.some((r) => r.role === "canary");
  const progress = c
    ? `${c.requests}/${c.minRequests} requests  ${c.samples}/${c.minSamples} follow samples  ${diff}  ${c.verdict}`
    : routed ? "taking traffic, first analysis pending" : "none (the next one follows the next retrain)";
  return [
    `releases  ${view.platform.router.map((r) => `${r.id} ${r.role} ${r.weight}%`).join("  ")}`,
    `traffic   ${trafficText(view.traffic)}`,
    `canary    ${progress}`,
    `last      ${lastVerdict(view.platform)}`,
  ];
}
