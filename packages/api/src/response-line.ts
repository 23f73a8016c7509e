import { csvField, formatEventTime, putBytes, putComma, putEventTime, putInt, putText } from "@recsys/core";
import type { ResponseRecord } from "./response-log.ts";

const QUOTE = 0x22, LF = 0x0a, DOT = 0x2e, ZERO = 0x30;

/**
 * One response-log line (core TELEMETRY_HEADER's columns, newline included) as a string: the
 * format's definition, which the trace, `ingest --telemetry` and the trace index read. The log
 * writes the same bytes through {@link createResponseLineEncoder}.
 */
export function formatResponseLine(r: ResponseRecord): string {
  return `${formatEventTime(r.timeMs)},${r.requestId},${csvField(r.userId)},${r.status},${r.latencyMs.toFixed(3)},${r.release},${r.commit},${r.modelHash},${r.dataHash},${csvField(r.result)},${r.exploreSlots}\n`;
}

/** `result` as the bytes of its CSV field, for {@link ResponseRecord.resultBytes}. */
export function resultFieldBytes(result: string): Buffer {
  return Buffer.from(csvField(result));
}

/**
 * Bytes one record can take at most: UTF-8 needs up to 3 bytes per UTF-16 unit, and a quoted
 * field (user excerpt, error text) twice its characters plus its quotes.
 */
export function responseLineBound(r: ResponseRecord): number {
  return 96 + 6 * (r.userId.length + r.result.length)
    + 3 * (r.requestId.length + r.release.length + r.commit.length + r.modelHash.length + r.dataHash.length + r.exploreSlots.length);
}

/** Writes one line at `at` in `buf` (room for responseLineBound(r) bytes) and returns where it ends. */
export type ResponseLineEncoder = (buf: Buffer, at: number, r: ResponseRecord) => number;

/**
 * An encoder of {@link formatResponseLine}'s bytes straight into a buffer, building no string:
 * on a saturated API, formatting lines as strings and encoding them at flush cost about 12 µs a
 * response (a quarter of serving it from cache). What repeats is copied, not encoded again: the
 * release, commit, model and data hash columns (the same on every line of one model, kept
 * until one of them changes) and a cached answer's id list (`resultBytes`).
 */
export function createResponseLineEncoder(): ResponseLineEncoder {
  let release = "", commit = "", modelHash = "", dataHash = "";
  let provenance: Buffer | null = null;
  return (buf, at, r) => {
    // === on the same string objects (one config, one model) is a pointer compare.
    if (provenance === null || r.release !== release || r.commit !== commit || r.modelHash !== modelHash || r.dataHash !== dataHash) {
      ({ release, commit, modelHash, dataHash } = r);
      provenance = Buffer.from(`${release},${commit},${modelHash},${dataHash}`);
    }
    at = putEventTime(buf, at, r.timeMs);
    at = putText(buf, putComma(buf, at), r.requestId);
    at = putCsvField(buf, putComma(buf, at), r.userId);
    at = putStatus(buf, putComma(buf, at), r.status);
    at = putMillis(buf, putComma(buf, at), r.latencyMs);
    at = putBytes(buf, putComma(buf, at), provenance);
    at = putComma(buf, at);
    at = r.resultBytes ? putBytes(buf, at, r.resultBytes) : putCsvField(buf, at, r.result);
    at = putText(buf, putComma(buf, at), r.exploreSlots);
    buf[at] = LF;
    return at + 1;
  };
}

/** An HTTP status: three digits written directly (core's general putInt took 10 times as long). */
function putStatus(buf: Buffer, at: number, status: number): number {
  if (!(Number.isInteger(status) && status >= 100 && status <= 999)) return putInt(buf, at, status);
  buf[at] = ZERO + Math.floor(status / 100);
  buf[at + 1] = ZERO + (Math.floor(status / 10) % 10);
  buf[at + 2] = ZERO + (status % 10);
  return at + 3;
}

/**
 * `ms.toFixed(3)` without building the string (toFixed was a tenth of a line's cost). Exact
 * where used: when ms * 1000 (off by at most 1e-7 below 1e6) is not near a tie, the integer
 * nearest it is the one toFixed's exact decimal rounding picks; anything else goes to toFixed.
 */
function putMillis(buf: Buffer, at: number, ms: number): number {
  const scaled = ms * 1000;
  const n = Math.round(scaled);
  if (!(ms >= 0 && ms < 1e6) || Math.abs(scaled - n) > 0.499) return putText(buf, at, ms.toFixed(3));
  const frac = n % 1000;
  at = putInt(buf, at, (n - frac) / 1000);
  buf[at] = DOT;
  buf[at + 1] = ZERO + Math.floor(frac / 100);
  buf[at + 2] = ZERO + (Math.floor(frac / 10) % 10);
  buf[at + 3] = ZERO + (frac % 10);
  return at + 4;
}

/** Past this many characters, Buffer#write (native) beats core's per-character putText. */
const NATIVE_WRITE_CHARS = 48;

/** `text` as UTF-8, natively when it is long (id lists, error texts). */
function putLong(buf: Buffer, at: number, text: string): number {
  return text.length > NATIVE_WRITE_CHARS ? at + buf.write(text, at, "utf8") : putText(buf, at, text);
}

/** `text` as one CSV field, quoted (RFC 4180, as core's csvField quotes) only when it must be: never for an id list. */
function putCsvField(buf: Buffer, at: number, text: string): number {
  return NEEDS_QUOTES.test(text) ? putQuoted(buf, at, text) : putLong(buf, at, text);
}
const NEEDS_QUOTES = /[",\r\n]/;

function putQuoted(buf: Buffer, at: number, text: string): number {
  buf[at++] = QUOTE;
  at = putLong(buf, at, text.replaceAll('"', '""'));
  buf[at++] = QUOTE;
  return at;
}
