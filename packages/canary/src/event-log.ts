import { createReadStream } from "node:fs";
import { createInterface } from "node:readline";
import { countBad, emptyLoadStats, type LoadStats, type RequestRecord, type WatchRecord } from "./records.ts";
import { parseStreamLine } from "./parse-line.ts";
import { parseTimeMs } from "./time.ts";
import { csvRows, mustExist } from "./files.ts";

export interface EventLogOptions {
  /**
   * Maps the stream's `<server>` field to a release id (e.g. a backend name to the release it
   * ran). A server missing from the map keeps its own name as the release.
   */
  releaseMap?: Readonly<Record<string, string>>;
  /**
   * The router's served-by log (CSV with at least `time,user_id,release`, one row per request
   * line, same time text): gives each request line the release that really served it, which
   * the stream's `<server>` (the router's own name) does not say. Wins over releaseMap.
   */
  servedByFile?: string;
}

export interface EventLog {
  requests: RequestRecord[];
  watches: WatchRecord[];
  stats: LoadStats;
}

const key = (timeMs: number, userId: number) => `${timeMs}\t${userId}`;

/** (time, user) -> releases in log order; a user's two requests in one millisecond keep their order. */
async function readServedBy(path: string, stats: LoadStats): Promise<Map<string, string[]>> {
  await mustExist(path, "served-by log");
  const servedBy = new Map<string, string[]>();
  for await (const { row, where } of csvRows(path, ["time", "user_id", "release"] as const, stats, "the router's time,user_id,release,... log")) {
    const timeMs = parseTimeMs(row.time);
    if (Number.isNaN(timeMs) || !/^\d{1,10}$/.test(row.user_id) || row.release === "") { countBad(stats, "bad_served_by", where); continue; }
    const k = key(timeMs, Number(row.user_id));
    const list = servedBy.get(k);
    if (list) list.push(row.release);
    else servedBy.set(k, [row.release]);
  }
  return servedBy;
}

/**
 * Streams an event log: request lines become RequestRecords (release = `<server>`, mapped by
 * the options), watch lines become WatchRecords. One viewing is one record: the first line of
 * each (user, movie) and any later minute-0 line (a restart); other minutes and ratings are
 * counted as ignored. Bad lines are counted by reason and skipped, never fatal; a missing file
 * is an InputError.
 *
 *     const { requests, watches, stats } = await readEventLog("logs/events.log", { servedByFile: "logs/events.log.releases.csv" });
 */
export async function readEventLog(path: string, options: EventLogOptions = {}): Promise<EventLog> {
  await mustExist(path, "event log");
  const out: EventLog = { requests: [], watches: [], stats: emptyLoadStats() };
  const servedBy = options.servedByFile ? await readServedBy(options.servedByFile, emptyLoadStats()) : null;
  const seen = new Set<string>();
  let lineNo = 0;
  for await (const line of createInterface({ input: createReadStream(path), crlfDelay: Infinity })) {
    lineNo++;
    if (line.trim() === "") continue;
    out.stats.lines++;
    const e = parseStreamLine(line);
    if (e.kind === "bad") countBad(out.stats, e.reason, `${path}:${lineNo}`);
    else if (e.kind === "rate") out.stats.ignored++;
    else if (e.kind === "request") {
      const { timeMs, userId, status, latencyMs, movieIds } = e;
      const release = servedBy?.get(key(timeMs, userId))?.shift() ?? options.releaseMap?.[e.server] ?? e.server;
      out.requests.push({ timeMs, userId, release, status, latencyMs, movieIds });
    } else {
      const pair = `${e.userId}\t${e.movieId}`;
      if (seen.has(pair) && e.minute !== 0) out.stats.ignored++;
      else {
        seen.add(pair);
        out.watches.push({ timeMs: e.timeMs, userId: e.userId, movieId: e.movieId });
      }
    }
  }
  out.stats.requests = out.requests.length;
  out.stats.watches = out.watches.length;
  return out;
}
