import { CANARY_ERROR } from "./errors.ts";
import { InputError } from "@recsys/core";

const ISO = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d+))?(Z|[+-]\d{2}:\d{2})?$/;

/**
 * Milliseconds of an ISO 8601 time, with or without fractional seconds and zone; a time
 * without a zone is UTC, as the event stream means it. NaN when `s` is not such a time.
 *
 *     parseTimeMs("2022-02-08T18:06:56.145104") // 1644343616145
 */
export function parseTimeMs(s: string): number {
  const m = ISO.exec(s);
  if (!m) return NaN;
  const fraction = m[2] ? "." + m[2].slice(0, 3) : "";
  const ms = Date.parse(`${m[1]}${fraction}${m[3] ?? "Z"}`);
  return Number.isNaN(ms) || !isCalendarDate(m[1]!) ? NaN : ms;
}

/** Date.parse rolls 2022-02-30 over into March and takes 24:00 as midnight; this refuses both. */
function isCalendarDate(isoDateTime: string): boolean {
  const [y, mo, d] = isoDateTime.slice(0, 10).split("-").map(Number) as [number, number, number];
  return new Date(Date.UTC(y, mo - 1, d)).getUTCDate() === d && Number(isoDateTime.slice(11, 13)) < 24;
}

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)?$/;

/**
 * A duration flag: a number with a unit (`500ms`, `30s`, `15m`, `12h`, `1d`) or bare seconds (`600`).
 * NaN when the text is not one.
 */
export function parseDurationMs(text: string): number {
  const m = DURATION.exec(text.trim());
  if (!m) return NaN;
  return Number(m[1]) * UNIT_MS[m[2] ?? "s"]!;
}

/** The analysed window: half-open [startMs, endMs). */
export interface TimeWindow {
  startMs: number;
  endMs: number;
}

/**
 * Resolves a `--window` flag against the data: a duration counts back from `lastMs` (the last
 * record), `FROM..TO` is an explicit ISO range, and no flag means everything from `firstMs`.
 * The end is exclusive, so the window ends 1 ms after the last record to include it.
 *
 *     resolveWindow("15m", first, last) // { startMs: last + 1 - 900_000, endMs: last + 1 }
 */
export function resolveWindow(spec: string | undefined, firstMs: number, lastMs: number): TimeWindow {
  if (spec === undefined) return { startMs: firstMs, endMs: lastMs + 1 };
  const range = spec.split("..");
  if (range.length === 2) {
    const [startMs, endMs] = range.map((t) => parseTimeMs(t.trim())) as [number, number];
    if (Number.isNaN(startMs) || Number.isNaN(endMs) || endMs <= startMs) {
      throw new InputError(CANARY_ERROR.badWindow, `--window ${spec}: expected FROM..TO with two ISO times, FROM before TO (e.g. 2022-02-08T18:00:00..2022-02-08T20:00:00)`);
    }
    return { startMs, endMs };
  }
  const ms = parseDurationMs(spec);
  if (!(ms > 0)) throw new InputError(CANARY_ERROR.badWindow, `--window ${spec}: expected a duration (15m, 12h, 600 seconds) or an ISO range FROM..TO`);
  return { startMs: lastMs + 1 - ms, endMs: lastMs + 1 };
}
