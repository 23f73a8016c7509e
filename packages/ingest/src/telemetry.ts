import { basename } from "node:path";
import { createInterface } from "node:readline";
import { MovieIdSchema, TELEMETRY_HEADER, RecsysError, openLogStream, type TelemetryFields } from "@recsys/core";
import { z } from "zod";
import { stripBom } from "./bom.ts";
import { badSideFile, unreadable, type RejectReason } from "./errors.ts";
import { normalizeEventTime } from "@recsys/core";
import type { IngestState } from "./ingest-state.ts";
import { parseId } from "./parse-event.ts";

/** One record of the API's per-response log (core TELEMETRY_HEADER), typed. */
export interface TelemetryRecord extends TelemetryFields {
  time: string;
  userId: number;
}

const TelemetryFieldsSchema = z.object({
  request_id: z.string().min(1),
  status: z.string().regex(/^\d{1,3}$/).transform(Number),
  latency_ms: z.string().regex(/^\d+(\.\d+)?$/).transform(Number),
  release: z.string(),
  commit: z.string(),
  model_hash: z.string(),
  data_hash: z.string(),
  result: z.string(),
  explore_slots: z.string().regex(/^(\d+(\|\d+)*)?$/),
}).superRefine((r, ctx) => {
  if (r.status === 200 && r.result !== "" && !r.result.split("|").every((id) => MovieIdSchema.safeParse(id).success)) ctx.addIssue({ code: "custom", message: "result ids must be movie slugs" });
});

/**
 * Splits one CSV line (RFC 4180 quoting, no embedded newlines); null when its quotes are broken.
 * Telemetry is read line by line rather than through csv-parse so that a broken quote costs
 * one rejected line instead of swallowing the records after it.
 */
export function splitCsvLine(line: string): string[] | null {
  const out: string[] = [];
  let i = 0;
  for (;;) {
    if (line.charCodeAt(i) === 34) {
      let field = "";
      let j = i + 1;
      for (;;) {
        const q = line.indexOf('"', j);
        if (q < 0) return null;
        field += line.slice(j, q);
        if (line.charCodeAt(q + 1) === 34) {
          field += '"';
          j = q + 2;
        } else {
          i = q + 1;
          break;
        }
      }
      out.push(field);
      if (i === line.length) return out;
      if (line.charCodeAt(i) !== 44) return null;
      i++;
    } else {
      const comma = line.indexOf(",", i);
      const end = comma < 0 ? line.length : comma;
      const field = line.slice(i, end);
      if (field.includes('"')) return null;
      out.push(field);
      if (comma < 0) return out;
      i = comma + 1;
    }
  }
}

/**
 * Parses one line of the API's response log (TELEMETRY_HEADER columns) into a record, or says
 * why it is rejected: `truncated` (wrong column count or broken quotes), `bad_time`,
 * `bad_user_id`, `bad_telemetry` (any other field).
 *
 *     parseTelemetryLine("2026-01-05T10:00:00.000000,r1,7,200,12,stable-a,abc123,m1,d1,a+1999|b+2001,1")
 *     // { time: "2026-01-05T10:00:00.000000", requestId: "r1", userId: 7, status: 200, ... }
 */
export function parseTelemetryLine(line: string): TelemetryRecord | { reject: RejectReason } {
  const f = splitCsvLine(line);
  if (!f || f.length !== TELEMETRY_HEADER.length) return { reject: "truncated" };
  const row = Object.fromEntries(TELEMETRY_HEADER.map((name, i) => [name, f[i]!])) as Record<(typeof TELEMETRY_HEADER)[number], string>;
  const time = normalizeEventTime(row.time);
  if (time === null) return { reject: "bad_time" };
  const userId = parseId(row.user_id);
  if (userId < 0) return { reject: "bad_user_id" };
  const parsed = TelemetryFieldsSchema.safeParse(row);
  if (!parsed.success) return { reject: "bad_telemetry" };
  const r = parsed.data;
  return {
    time, userId, requestId: r.request_id, status: r.status, latencyMs: r.latency_ms, release: r.release, commit: r.commit,
    modelHash: r.model_hash, dataHash: r.data_hash, result: r.result, exploreSlots: r.explore_slots,
  };
}

/**
 * Merges one API response log into the run. Its header must be TELEMETRY_HEADER (else exit 2:
 * the wrong file was named); bad lines are rejected with the file's name and line number.
 */
export async function readTelemetryFile(path: string, state: IngestState): Promise<void> {
  const source = basename(path);
  state.startInput();
  // Plain or gzipped (the API's rotated logs). A read or gunzip error surfaces from the loop.
  const input = openLogStream(path);
  let lineNo = 0;
  try {
    for await (const raw of createInterface({ input, crlfDelay: Infinity })) {
      lineNo++;
      const line = raw.endsWith("\r") ? raw.slice(0, -1) : raw;
      if (lineNo === 1) {
        if (stripBom(line) !== TELEMETRY_HEADER.join(",")) throw badSideFile(`${path}:1`, `header must be ${TELEMETRY_HEADER.join(",")}`);
        continue;
      }
      state.lines++;
      if (line.trim() === "") {
        state.blank++;
        continue;
      }
      const rec = parseTelemetryLine(line);
      if ("reject" in rec) state.reject(lineNo, rec.reject, line, source);
      else if (state.isDuplicate(line)) state.reject(lineNo, "duplicate", line, source);
      else state.acceptTelemetry(rec, lineNo, line, source);
      if (lineNo % 4096 === 0) await state.flushIfFull();
    }
  } catch (err) {
    if (err instanceof RecsysError) throw err;
    const e = err as NodeJS.ErrnoException;
    throw unreadable(lineNo > 0 ? `${path}:${lineNo + 1}` : path, `cannot read (${e.code ?? e.message})`);
  } finally {
    input.destroy();
  }
}
