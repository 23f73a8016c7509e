import { access } from "node:fs/promises";
import { InputError } from "@recsys/core";
import { analyzeCanary, type CanaryAnalysis } from "./analyze.ts";
import { loadCanaryConfig } from "./config.ts";
import { CANARY_ERROR } from "./errors.ts";
import { readEventLog } from "./event-log.ts";
import { readTelemetryLogs } from "./telemetry.ts";
import { resolveWindow } from "./time.ts";
import { loadUserGroups } from "./groups.ts";
import type { LoadStats, RequestRecord } from "./records.ts";

export interface CanaryFilesInput {
  /** Event stream: watch lines always; request lines too unless telemetry is given. */
  eventsFile: string;
  /** API response logs (files or directories); when given, they are the request records. */
  telemetryFiles?: readonly string[];
  /** Router served-by log for the event stream's request lines; default `<eventsFile>.releases.csv` if it exists. */
  servedByFile?: string;
  canary: string;
  stable?: readonly string[];
  /** `15m`, `12h`, `600` (seconds) back from the last request, or `FROM..TO`; default: everything. */
  window?: string;
  configFile?: string;
  /** users.jsonl: adds the follow rate per user group (gender, age, age x gender). */
  usersFile?: string;
}

export interface CanaryFilesResult {
  analysis: CanaryAnalysis;
  /** What each input held, bad lines included, and which file gave the releases. */
  inputs: { events: LoadStats; telemetry: LoadStats | null; requestsFrom: "telemetry" | "events"; servedByFile: string | null };
}

function timeRange(requests: readonly RequestRecord[]): { first: number; last: number } {
  let first = Infinity;
  let last = -Infinity;
  for (const r of requests) {
    if (r.timeMs < first) first = r.timeMs;
    if (r.timeMs > last) last = r.timeMs;
  }
  return { first, last };
}

/**
 * The file-based analysis behind `recsys canary analyze`: reads the logs, resolves the window
 * against the last request, loads the config and runs analyzeCanary. Requests come from the
 * API telemetry when given (it names the release of every response), else from the event
 * stream's request lines; watches always come from the event stream.
 *
 *     const { analysis } = await analyzeCanaryFiles({ eventsFile: "events.log", canary: "r2", window: "30m" });
 */
export async function analyzeCanaryFiles(input: CanaryFilesInput): Promise<CanaryFilesResult> {
  const config = input.configFile ? await loadCanaryConfig(input.configFile) : undefined;
  const useTelemetry = (input.telemetryFiles?.length ?? 0) > 0;
  const defaultServedBy = `${input.eventsFile}.releases.csv`;
  const servedByFile = input.servedByFile ?? (!useTelemetry && (await access(defaultServedBy).then(() => true, () => false)) ? defaultServedBy : null);
  const events = await readEventLog(input.eventsFile, servedByFile ? { servedByFile } : {});
  const telemetry = useTelemetry ? await readTelemetryLogs(input.telemetryFiles!) : null;
  const requests = telemetry ? telemetry.requests : events.requests;
  if (requests.length === 0) {
    const from = telemetry ? `telemetry ${input.telemetryFiles!.join(", ")}` : `event log ${input.eventsFile}`;
    throw new InputError(CANARY_ERROR.noRequests, `${from}: no valid request records to analyse`);
  }
  // A deploy loop may see no canary yet; a finished log without it means a mistyped release.
  const seen = new Set(requests.map((r) => r.release));
  const unknown = [input.canary, ...(input.stable ?? [])].filter((r) => !seen.has(r));
  if (unknown.length) {
    throw new InputError(CANARY_ERROR.unknownRelease, `release ${unknown.join(", ")} never appears in the requests (releases seen: ${[...seen].sort().join(", ")})`);
  }
  const { first, last } = timeRange(requests);
  const window = resolveWindow(input.window, first, last);
  const analysis = analyzeCanary({
    requests, watches: events.watches, canary: input.canary, stable: input.stable?.length ? input.stable : "others",
    windowStartMs: window.startMs, windowEndMs: window.endMs, config,
    userGroups: input.usersFile ? await loadUserGroups(input.usersFile) : undefined,
  });
  return { analysis, inputs: { events: events.stats, telemetry: telemetry?.stats ?? null, requestsFrom: telemetry ? "telemetry" : "events", servedByFile } };
}
