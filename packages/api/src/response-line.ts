import { putEventTime, putInt, putText } from "@recsys/core";
import type { ResponseRecord } from "./response-log.ts";

const COMMA = 0x2c, QUOTE = 0x22, CR = 0x0d, LF = 0x0a;

/**
 * Bytes one record can take at most: UTF-8 needs up to 3 bytes per UTF-16 unit, and a quoted
 * field (user excerpt, error text) twice its characters plus its quotes.
 */
export function responseLineBound(r: ResponseRecord): number {
  return 96 + 6 * (r.userId.length + r.result.length)
    + 3 * (r.requestId.length + r.release.length + r.commit.length + r.modelHash.length + r.dataHash.length + r.exploreSlots.length);
}

/**
 * Writes one response-log line (core TELEMETRY_HEADER's columns, newline included) straight into
 * `buf` at `at` and returns where it ends; `buf` needs room for responseLineBound(r) bytes. No
 * string is built: on a saturated API, formatting lines as strings and encoding them at flush
 * cost about 12 µs a response (a quarter of serving it from cache); this costs about 1.
 */
export function encodeResponseLine(buf: Buffer, at: number, r: ResponseRecord): number {
  at = putEventTime(buf, at, r.timeMs);
  buf[at++] = COMMA;
  at = putText(buf, at, r.requestId);
  buf[at++] = COMMA;
  at = putCsvField(buf, at, r.userId);
  buf[at++] = COMMA;
  at = putInt(buf, at, r.status);
  buf[at++] = COMMA;
  at = putText(buf, at, r.latencyMs.toFixed(3));
  buf[at++] = COMMA;
  at = putText(buf, at, r.release);
  buf[at++] = COMMA;
  at = putText(buf, at, r.commit);
  buf[at++] = COMMA;
  at = putText(buf, at, r.modelHash);
  buf[at++] = COMMA;
  at = putText(buf, at, r.dataHash);
  buf[at++] = COMMA;
  at = putCsvField(buf, at, r.result);
  buf[at++] = COMMA;
  at = putText(buf, at, r.exploreSlots);
  buf[at++] = LF;
  return at;
}

/** The same line as a string, for callers outside the hot path. */
export function formatResponseLine(r: ResponseRecord): string {
  const buf = Buffer.allocUnsafe(responseLineBound(r));
  return buf.toString("utf8", 0, encodeResponseLine(buf, 0, r));
}

/**
 * `text` as one CSV field (RFC 4180, as core's csvField quotes it): copied as it is while it
 * needs no quoting, which is every id list; a quote, comma or line break starts over quoted.
 */
function putCsvField(buf: Buffer, at: number, text: string): number {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE || c === COMMA || c === CR || c === LF) return putQuoted(buf, at, text);
    // Non-ASCII (an error text quoting a client's id): the plain path for the whole field.
    if (c >= 0x80) return /[",\r\n]/.test(text) ? putQuoted(buf, at, text) : putText(buf, at, text);
    buf[at + i] = c;
  }
  return at + text.length;
}

function putQuoted(buf: Buffer, at: number, text: string): number {
  buf[at++] = QUOTE;
  at = putText(buf, at, text.replaceAll('"', '""'));
  buf[at++] = QUOTE;
  return at;
}
