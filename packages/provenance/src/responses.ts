import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { RESPONSE_FILE } from "@recsys/api";
import { TELEMETRY_HEADER, openLogStream, parseEventTime, withoutPlainTwins, splitCsvLine, type TelemetryFields } from "@recsys/core";
import { STATE_FILES } from "@recsys/deploy";
import { badProvenanceInput, notFound } from "./errors.ts";
import { inflate, readBytes } from "./file-bytes.ts";
import type { Segment } from "./response-index.ts";

/** One line of an API response log, read back with where it was found. */
export interface ResponseLine extends Omit<TelemetryFields, "exploreSlots"> {
  file: string;
  /** Where in `file`: `path:line` when the file was read whole, `path@byte` when a lookup seeked. */
  where: string;
  time: string;
  userId: string;
  /** The returned ids, best first (empty unless status 200). */
  ids: string[];
  /** 0-based positions of `ids` that were exploration. */
  exploreSlots: number[];
}

export type ResponseQuery = { requestId: string } | { userId: string; atUs: number };

/**
 * The response logs in the given telemetry directories (one per replica), oldest first within
 * each, rotated `.csv.gz` ones included (a plain file caught next to its finished `.gz`
 * mid-rotation is left out). A directory that does not exist is the user's mistake: exit 2
 * naming it.
 */
export async function responseFiles(dirs: readonly string[]): Promise<string[]> {
  const out: string[] = [];
  for (const dir of dirs) {
    const names = await readdir(dir).catch(() => null);
    if (names === null) throw badProvenanceInput(dir, "no such telemetry directory (pass the replicas' --log-dir with --telemetry DIR)");
    out.push(...withoutPlainTwins(names.filter((n) => RESPONSE_FILE.test(n))).sort(byDayAndPart).map((n) => join(dir, n)));
  }
  return out;
}

/** Every replica's telemetry directory under a platform's state directory (`STATE/replicas/<id>/`). */
export async function replicaTelemetryDirs(stateDir: string): Promise<string[]> {
  const root = join(stateDir, STATE_FILES.replicas);
  const entries = await readdir(root, { withFileTypes: true }).catch(() => []);
  const dirs = entries.filter((e) => e.isDirectory()).map((e) => join(root, e.name)).sort();
  if (dirs.length === 0) throw badProvenanceInput(root, "no replica telemetry here; pass --telemetry DIR (the replicas' --log-dir) or --state DIR");
  return dirs;
}

/**
 * A `--at` time as microseconds: zone-less ISO 8601 is UTC, as in the logs; an explicit `Z` or
 * offset is honoured.
 *
 *     parseAtTime("1970-01-01T00:00:01") // 1000000, as is parseAtTime("1970-01-01T01:00:01+01:00")
 */
export function parseAtTime(text: string): number {
  const local = parseEventTime(text.length === 16 ? `${text}:00` : text);
  if (Number.isFinite(local)) return local;
  const ms = /[zZ]|[+-]\d\d:?\d\d$/.test(text) ? Date.parse(text) : NaN;
  if (!Number.isFinite(ms)) throw badProvenanceInput(`--at ${text}`, "not an ISO 8601 time (e.g. 2026-12-01T14:03:00, UTC unless it has Z or an offset)");
  return ms * 1000;
}

/**
 * Finds the response a query names, scanning the logs linearly. By request id: every line with
 * that id (a router retry can log one id on two replicas) and the one the user got, a 200 if
 * any. By user and time: the latest response to that user at or before the time, the answer in
 * force then. Nothing found is exit 2 with the query in the message.
 *
 *     await findResponse(["runs/platform/replicas/r1@4001"], { requestId: "7234a07d-1" })
 */
export async function findResponse(files: ReadonlyArray<string | Segment>, query: ResponseQuery): Promise<{ chosen: ResponseLine; all: ResponseLine[] }> {
  const segments = files.map((f) => (typeof f === "string" ? { file: f, start: 0, end: Infinity } : f));
  const all = "requestId" in query ? await byRequestId(segments, query.requestId) : await byUserAt([...new Set(segments.map((s) => s.file))], query.userId, query.atUs);
  const chosen = all.find((r) => r.status === 200) ?? all.at(-1);
  if (!chosen) {
    const what = "requestId" in query ? `request id ${query.requestId}` : `a response to user ${query.userId} at or before that time`;
    throw notFound(`${what} is not in the response logs`, "check the id, or add --telemetry DIR for the replicas' log directories");
  }
  return { chosen, all };
}

async function byRequestId(segments: readonly Segment[], requestId: string): Promise<ResponseLine[]> {
  // Search bytes: the id sits between the first two commas of its line, so `,id,` finds it
  // without decoding or splitting the other lines. Segments start and end on line boundaries.
  const needle = Buffer.from(`,${requestId},`);
  const found: ResponseLine[] = [];
  for (const seg of segments) {
    const bytes = await readRange(seg);
    for (let at = bytes.indexOf(needle); at !== -1; at = bytes.indexOf(needle, at + 1)) {
      const start = bytes.lastIndexOf(10, at) + 1;
      const end = bytes.indexOf(10, at);
      const text = bytes.subarray(start, end === -1 ? bytes.length : end).toString("utf8");
      const line = toResponse(splitCsvLine(text.replace(/\r$/, "")), seg.file, `${seg.file}@${seg.start + start}`);
      if (line?.requestId === requestId) found.push(line);
    }
  }
  return found;
}

async function readRange(seg: Segment): Promise<Buffer> {
  if (seg.file.endsWith(".gz")) return readGzRange(seg);
  if (seg.start === 0 && seg.end === Infinity) return readFile(seg.file);
  return readBytes(seg.file, seg.start, seg.end);
}

/**
 * Bytes [start, end) of a gzipped log, positions in its uncompressed stream. Written in members
 * (the segment knows their compressed bytes): reads and inflates those members only. Otherwise
 * (gzip cannot seek) decompresses from the start and stops at `end`.
 */
async function readGzRange(seg: Segment): Promise<Buffer> {
  if (seg.gz) {
    const [from, to] = seg.gz;
    return inflate(`${seg.file}@${from}`, await readBytes(seg.file, from, to), "gzip member", "the file changed after it was indexed");
  }
  const parts: Buffer[] = [];
  let at = 0;
  const stream = openLogStream(seg.file);
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    if (at + chunk.length > seg.start) parts.push(chunk.subarray(Math.max(0, seg.start - at), Math.max(0, seg.end - at)));
    at += chunk.length;
    if (at >= seg.end) break;
  }
  stream.destroy();
  return Buffer.concat(parts);
}

async function byUserAt(files: readonly string[], userId: string, atUs: number): Promise<ResponseLine[]> {
  let best: ResponseLine | null = null, bestUs = -Infinity;
  for (const file of files) {
    let lineNo = 0;
    for await (const text of createInterface({ input: openLogStream(file), crlfDelay: Infinity })) {
      if (++lineNo === 1) {
        if (text !== TELEMETRY_HEADER.join(",")) throw badProvenanceInput(`${file}:1`, `header must be ${TELEMETRY_HEADER.join(",")}`);
        continue;
      }
      if (text === "") continue;
      const fields = splitCsvLine(text);
      if (fields[2] !== userId) continue;
      const us = parseEventTime(fields[0]!);
      if (us > atUs || us < bestUs) continue;
      const line = toResponse(fields, file, `${file}:${lineNo}`);
      if (line) { best = line; bestUs = us; }
    }
  }
  return best ? [best] : [];
}

function toResponse(f: string[], file: string, where: string): ResponseLine | null {
  if (f.length !== TELEMETRY_HEADER.length) return null;
  const [time, requestId, userId, status, latency, release, commit, modelHash, dataHash, result, explore] = f as [string, ...string[]];
  const ok = status === "200";
  return {
    file, where, time, requestId: requestId!, userId: userId!, status: Number(status), latencyMs: Number(latency),
    release: release!, commit: commit!, modelHash: modelHash!, dataHash: dataHash!, result: result!,
    ids: ok && result ? result.split("|") : [],
    exploreSlots: explore ? explore.split("|").map(Number) : [],
  };
}

function byDayAndPart(a: string, b: string): number {
  const x = RESPONSE_FILE.exec(a)!, y = RESPONSE_FILE.exec(b)!;
  return x[1]!.localeCompare(y[1]!) || Number(x[2] ?? 0) - Number(y[2] ?? 0);
}
