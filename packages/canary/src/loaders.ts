import { CANARY_ERROR } from "./errors.ts";
import { createReadStream } from "node:fs";
import { access } from "node:fs/promises";
import { createInterface } from "node:readline";
import { parse } from "csv-parse";
import { z } from "zod";
import { InputError, TELEMETRY_HEADER } from "@recsys/core";
import { countBad, emptyLoadStats, mergeLoadStats, type LoadStats, type RequestRecord, type WatchRecord } from "./records.ts";
import { parseStreamLine, MOVIE_ID } from "./parse-line.ts";
import { parseTimeMs } from "./time.ts";

async function mustExist(path: string, what: string): Promise<void> {
  await access(path).catch((err: NodeJS.ErrnoException) => {
    throw new InputError(CANARY_ERROR.badFile, `${what} ${path}: cannot read (${err.code ?? String(err)})`);
  });
}

export interface EventLogOptions {
  /**
   * Maps the stream's `<server>` field to a release id (e.g. the router's backend address to
   * the release it ran). A server missing from the map keeps its own name as the release.
   */
  releaseMap?: Readonly<Record<string, string>>;
}

export interface EventLog {
  requests: RequestRecord[];
  watches: WatchRecord[];
  stats: LoadStats;
}

/**
 * Streams an event log: request lines become RequestRecords (release = `<server>`, or its
 * mapping), watch lines become WatchRecords. One viewing is one record: the first line of each
 * (user, movie) and any later minute-0 line (a restart); other minutes are counted as ignored.
 * Bad lines are counted by reason and skipped, never fatal; a missing file is an InputError.
 *
 *     const { requests, watches, stats } = await readEventLog("events.log");
 */
export async function readEventLog(path: string, options: EventLogOptions = {}): Promise<EventLog> {
  await mustExist(path, "event log");
  const out: EventLog = { requests: [], watches: [], stats: emptyLoadStats() };
  const seen = new Set<string>();
  const lines = createInterface({ input: createReadStream(path), crlfDelay: Infinity });
  for await (const line of lines) {
    out.stats.lines++;
    if (line.trim() === "") continue;
    const e = parseStreamLine(line);
    if (e.kind === "bad") countBad(out.stats, e.reason, `${path}:${out.stats.lines}`);
    else if (e.kind === "rate") out.stats.ignored++;
    else if (e.kind === "request") {
      const { timeMs, userId, status, latencyMs, movieIds } = e;
      out.requests.push({ timeMs, userId, release: options.releaseMap?.[e.server] ?? e.server, status, latencyMs, movieIds });
    } else {
      const key = `${e.userId}\t${e.movieId}`;
      if (seen.has(key) && e.minute !== 0) out.stats.ignored++;
      else {
        seen.add(key);
        out.watches.push({ timeMs: e.timeMs, userId: e.userId, movieId: e.movieId });
      }
    }
  }
  out.stats.requests = out.requests.length;
  out.stats.watches = out.watches.length;
  return out;
}

const REQUIRED = ["time", "user_id", "status", "latency_ms", "release", "result"] as const satisfies readonly (typeof TELEMETRY_HEADER)[number][];

const TelemetryRowSchema = z.object({
  time: z.string().transform(parseTimeMs).pipe(z.number()),
  user_id: z.string().regex(/^\d{1,10}$/).transform(Number),
  status: z.string().regex(/^\d{1,3}$/).transform(Number),
  latency_ms: z.string().regex(/^\d+(\.\d+)?$/).transform(Number),
  release: z.string().min(1),
  result: z.string(),
});

function toRequest(row: z.output<typeof TelemetryRowSchema>): RequestRecord | null {
  const movieIds = row.status === 200 && row.result !== "" ? row.result.split("|") : [];
  if (!movieIds.every((id) => MOVIE_ID.test(id))) return null;
  return { timeMs: row.time, userId: row.user_id, release: row.release, status: row.status, latencyMs: row.latency_ms, movieIds };
}

async function readTelemetryLog(path: string): Promise<{ requests: RequestRecord[]; stats: LoadStats }> {
  await mustExist(path, "telemetry log");
  const stats = emptyLoadStats();
  const requests: RequestRecord[] = [];
  // Malformed quoting is a bad row, not a crash: csv-parse skips it and reports it here.
  const parser = createReadStream(path).pipe(parse({ relax_column_count: true, skip_empty_lines: true, skip_records_with_error: true }));
  parser.on("skip", (err: { lines?: number }) => { stats.lines++; countBad(stats, "bad_csv", `${path}:${err.lines ?? "?"}`); });
  let columns: Map<string, number> | null = null;
  for await (const fields of parser as AsyncIterable<string[]>) {
    stats.lines++;
    if (!columns) {
      columns = new Map(fields.map((name, i) => [name.trim(), i]));
      const missing = REQUIRED.filter((c) => !columns!.has(c));
      if (missing.length) throw new InputError(CANARY_ERROR.badTelemetry, `${path}: header lacks ${missing.join(", ")} (expected core TELEMETRY_HEADER: ${TELEMETRY_HEADER.join(",")})`);
      continue;
    }
    const where = `${path}:${stats.lines}`;
    if (fields.length !== columns.size) { countBad(stats, "bad_column_count", where); continue; }
    const row = TelemetryRowSchema.safeParse(Object.fromEntries(REQUIRED.map((c) => [c, fields[columns!.get(c)!]])));
    const request = row.success ? toRequest(row.data) : null;
    if (!row.success) countBad(stats, `bad_${String(row.error.issues[0]!.path[0])}`, where);
    else if (!request) countBad(stats, "bad_result", where);
    else requests.push(request);
  }
  if (!columns) throw new InputError(CANARY_ERROR.badTelemetry, `${path}: empty file, expected a TELEMETRY_HEADER line`);
  stats.requests = requests.length;
  return { requests, stats };
}

/**
 * Reads the API's per-response CSV logs (core TELEMETRY_HEADER; columns found by name) into
 * RequestRecords with the logged release. Bad rows are counted by reason and skipped; a missing
 * file or a header without the needed columns is an InputError.
 *
 *     const { requests, stats } = await readTelemetryLogs(["api-a.csv", "api-b.csv"]);
 */
export async function readTelemetryLogs(paths: readonly string[]): Promise<{ requests: RequestRecord[]; stats: LoadStats }> {
  const stats = emptyLoadStats();
  const requests: RequestRecord[] = [];
  for (const path of paths) {
    const one = await readTelemetryLog(path);
    for (const r of one.requests) requests.push(r);
    mergeLoadStats(stats, one.stats);
  }
  return { requests, stats };
}
