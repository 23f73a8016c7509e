/**
 * Event times: ISO 8601 without a zone, with or without fractional seconds. They are checked by
 * hand (a regex exec allocates a match array per line) and normalised to one fixed width,
 * `YYYY-MM-DDTHH:MM:SS.ffffff` like core's formatEventTime, so that times compare as strings
 * and every output file carries one format.
 */
const DAYS_IN_MONTH = [0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
const ZEROS = "000000";

function digitAt(s: string, i: number): number {
  const c = s.charCodeAt(i) - 48;
  return c >= 0 && c <= 9 ? c : -1;
}

function twoDigits(s: string, i: number): number {
  const a = digitAt(s, i);
  const b = digitAt(s, i + 1);
  return a < 0 || b < 0 ? -1 : a * 10 + b;
}

/**
 * Returns the normalised time, or null when `s` is not a valid zone-less ISO timestamp.
 *
 *     normalizeEventTime("2022-02-08T18:06:56")      // "2022-02-08T18:06:56.000000"
 *     normalizeEventTime("2022-02-08T18:06:56.1451") // "2022-02-08T18:06:56.145100"
 */
export function normalizeEventTime(s: string): string | null {
  const n = s.length;
  if (n < 19 || n === 20 || n > 29) return null;
  if (s.charCodeAt(4) !== 45 || s.charCodeAt(7) !== 45 || s.charCodeAt(10) !== 84 || s.charCodeAt(13) !== 58 || s.charCodeAt(16) !== 58) return null;
  const century = twoDigits(s, 0);
  const yy = twoDigits(s, 2);
  const year = century < 0 || yy < 0 ? -1 : century * 100 + yy;
  const month = twoDigits(s, 5);
  const day = twoDigits(s, 8);
  const hour = twoDigits(s, 11);
  const minute = twoDigits(s, 14);
  const second = twoDigits(s, 17);
  if (year < 1900 || month < 1 || month > 12 || day < 1 || day > DAYS_IN_MONTH[month]! || hour < 0 || hour > 23 || minute < 0 || minute > 59 || second < 0 || second > 59) return null;
  if (month === 2 && day === 29 && (year % 4 !== 0 || (year % 100 === 0 && year % 400 !== 0))) return null;
  if (n === 19) return s + "." + ZEROS;
  if (s.charCodeAt(19) !== 46) return null;
  for (let i = 20; i < n; i++) if (digitAt(s, i) < 0) return null;
  if (n === 26) return s;
  return n < 26 ? s + ZEROS.slice(0, 26 - n) : s.slice(0, 26);
}

/** Milliseconds since the epoch of a normalised time (read as UTC, as the stream means it). */
export function eventTimeMs(normalized: string): number {
  return Date.parse(normalized.slice(0, 23) + "Z");
}
