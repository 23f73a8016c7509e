import { z } from "zod";
import { TELEMETRY_HEADER } from "@recsys/core";
import { emptyLoadStats, mergeLoadStats, countBad, type LoadStats, type RequestRecord } from "./records.ts";
import { MOVIE_ID } from "./parse-line.ts";
import { parseTimeMs } from "./time.ts";
import { csvFilesIn, csvRows, mustExist } from "./files.ts";

const COLUMNS = ["time", "user_id", "status", "latency_ms", "release", "result"] as const satisfies readonly (typeof TELEMETRY_HEADER)[number][];

const TelemetryRowSchema = z.object({
  time: z.string().transform(parseTimeMs).pipe(z.number()),
  // The API logs the user id as requested; a malformed one was still a request it answered.
  user_id: z.string().transform((s) => (/^\d{1,10}$/.test(s) ? Number(s) : -1)),
  status: z.string().regex(/^\d{1,3}$/).transform(Number),
  latency_ms: z.string().regex(/^\d+(\.\d+)?$/).transform(Number),
  release: z.string().min(1),
  result: z.string(),
});

async function readTelemetryFile(path: string, requests: RequestRecord[]): Promise<LoadStats> {
  const stats = emptyLoadStats();
  for await (const { row, where } of csvRows(path, COLUMNS, stats, `core TELEMETRY_HEADER: ${TELEMETRY_HEADER.join(",")}`)) {
    const parsed = TelemetryRowSchema.safeParse(row);
    if (!parsed.success) { countBad(stats, `bad_${String(parsed.error.issues[0]!.path[0])}`, where); continue; }
    const r = parsed.data;
    const movieIds = r.status === 200 && r.result !== "" ? r.result.split("|") : [];
    if (!movieIds.every((id) => MOVIE_ID.test(id))) { countBad(stats, "bad_result", where); continue; }
    requests.push({ timeMs: r.time, userId: r.user_id, release: r.release, status: r.status, latencyMs: r.latency_ms, movieIds });
    stats.requests++;
  }
  return stats;
}

/**
 * Reads the API's per-response CSV logs (core TELEMETRY_HEADER; columns found by name) into
 * RequestRecords carrying the release that served each one. A directory stands for all its
 * `*.csv` and `*.csv.gz` files (rotated logs are read compressed, as they are). Bad rows are counted by reason and skipped; a missing file or a header without
 * the needed columns is an InputError (exit 2).
 *
 *     const { requests, stats } = await readTelemetryLogs(["logs/api-a", "logs/api-b/responses-20220208.csv"]);
 */
export async function readTelemetryLogs(paths: readonly string[]): Promise<{ requests: RequestRecord[]; stats: LoadStats }> {
  const stats = emptyLoadStats();
  const requests: RequestRecord[] = [];
  for (const path of paths) {
    const files = (await mustExist(path, "telemetry log")).isDirectory ? await csvFilesIn(path) : [path];
    for (const file of files) mergeLoadStats(stats, await readTelemetryFile(file, requests));
  }
  return { requests, stats };
}
