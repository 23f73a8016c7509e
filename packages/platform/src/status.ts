import type { PlatformStatus } from "@recsys/deploy";
import type { TrafficStats } from "./traffic.ts";

/**
 * The live status line: releases and their weights, the users' view of the service over the
 * last seconds (requests/s, p99, success rate) and the last release verdict.
 *
 *     formatStatus(status, stats) // "r-3f2a stable 80% | r-9c1d canary 20% | 39.8 req/s p99 12 ms ok 100.00% | last: r-9c1d promoted"
 */
export function formatStatus(status: PlatformStatus, stats: TrafficStats): string {
  const releases = status.router.map((r) => `${r.id} ${r.role} ${r.weight}%`).join(" | ");
  const p99 = stats.p99Ms === null ? "-" : `${stats.p99Ms.toFixed(0)} ms`;
  const ok = stats.successRate === null ? "-" : `${(stats.successRate * 100).toFixed(2)}%`;
  const last = status.releases.at(-1);
  return `${releases} | ${stats.rps.toFixed(1)} req/s p99 ${p99} ok ${ok} | last: ${last ? `${last.releaseId} ${last.verdict}` : "-"}`;
}
