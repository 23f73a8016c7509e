import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { analyzeCanary, loadUserGroups, readEventLog, readTelemetryLogs, type CanaryAnalysis, type CanaryConfigInput } from "@recsys/canary";
import type { Replica } from "./driver.ts";

export interface WindowInput {
  /** Replicas whose telemetry is read (the canary's and the stable release's). */
  replicas: readonly Replica[];
  canary: string;
  stable: string;
  windowStartMs: number;
  windowEndMs: number;
  config?: CanaryConfigInput;
  /** An event stream with watch lines, for the canary package's quality test (optional). */
  watchesPath?: string;
  /** users.jsonl: adds the canary package's per-group follow-rate check (a group served worse rolls back). */
  usersPath?: string;
}

/**
 * One analysis of the window since the canary took traffic, from what each replica itself
 * logged (its `responses-*.csv` and rotated `.csv.gz`, with the release it served). The replicas' own logs, not the
 * router's, are the evidence: the router retries a failed canary answer on a stable replica,
 * so the users (and the router's log) never see the failure the analysis must catch.
 *
 *     const a = await analyzeWindow({ replicas, canary: "r2", stable: "r1", windowStartMs, windowEndMs: Date.now() });
 */
export async function analyzeWindow(input: WindowInput): Promise<CanaryAnalysis> {
  const files = (await Promise.all(input.replicas.map((r) => telemetryFiles(r.telemetryDir)))).flat();
  const { requests } = await readTelemetryLogs(files);
  const watches = input.watchesPath ? (await readEventLog(input.watchesPath)).watches : [];
  return analyzeCanary({
    requests, watches, canary: input.canary, stable: [input.stable],
    windowStartMs: input.windowStartMs, windowEndMs: input.windowEndMs, config: input.config,
    userGroups: input.usersPath ? await loadUserGroups(input.usersPath) : undefined,
  });
}

async function telemetryFiles(dir: string | null): Promise<string[]> {
  if (dir === null) return [];
  const names = await readdir(dir).catch(() => [] as string[]);
  // The API gzips a rotated file (rename, then remove the plain one): take the .gz, never both.
  const logs = new Set(names.filter((n) => /^responses-.*\.csv(\.gz)?$/.test(n)));
  return [...logs].filter((n) => !logs.has(`${n}.gz`)).sort().map((n) => join(dir, n));
}

/** The part of an analysis a release record keeps: verdict, reasons, the two arms, the tests. */
export function evidenceOf(a: CanaryAnalysis): Record<string, unknown> {
  return { verdict: a.verdict, reasons: a.reasons, canary: a.canary, stable: a.stable, window: a.window, arms: a.arms, tests: a.tests, config: a.config };
}
