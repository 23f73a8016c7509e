/**
 * Event times: ISO 8601 without a zone, with or without fractional seconds. They are checked
 * by hand (a regex exec allocates a match array per line) and held as microseconds since the
 * epoch in a double (exact up to year 2255): numbers compare and store cheaply, and holding no
 * substring of the input line means no input chunk stays alive behind a kept time. Output
 * writes them back in one fixed format, `YYYY-MM-DDTHH:MM:SS.ffffff` like core's formatEventTime.
 */
const DAYS_IN_MONTH = [0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

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
 * Microseconds since the epoch (the time read as UTC), or NaN when `s` is not a valid zone-less
 * ISO timestamp. Up to 9 fractional digits are accepted; past 6 they are cut.
 *
 *     parseEventTime("1970-01-01T00:00:01.5") // 1500000
 */
export function parseEventTime(s: string): number {
  const n = s.length;
  if (n < 19 || n === 20 || n > 29) return NaN;
  if (s.charCodeAt(4) !== 45 || s.charCodeAt(7) !== 45 || s.charCodeAt(10) !== 84 || s.charCodeAt(13) !== 58 || s.charCodeAt(16) !== 58) return NaN;
  const century = twoDigits(s, 0);
  const yy = twoDigits(s, 2);
  const year = century < 0 || yy < 0 ? -1 : century * 100 + yy;
  const month = twoDigits(s, 5);
  const day = twoDigits(s, 8);
  const hour = twoDigits(s, 11);
  const minute = twoDigits(s, 14);
  const second = twoDigits(s, 17);
  if (year < 1900 || month < 1 || month > 12 || day < 1 || day > DAYS_IN_MONTH[month]! || hour < 0 || hour > 23 || minute < 0 || minute > 59 || second < 0 || second > 59) return NaN;
  if (month === 2 && day === 29 && (year % 4 !== 0 || (year % 100 === 0 && year % 400 !== 0))) return NaN;
  let micros = 0;
  if (n > 19) {
    if (s.charCodeAt(19) !== 46) return NaN;
    let scale = 100_000;
    for (let i = 20; i < n; i++) {
      const d = digitAt(s, i);
      if (d < 0) return NaN;
      micros += d * scale;
      scale /= 10;
    }
    micros = Math.floor(micros);
  }
  return hourStartUs(year, month, day, hour) + (minute * 60 + second) * 1_000_000 + micros;
}

// Consecutive stream lines nearly always share their hour: remember the last one's start
// rather than calling Date.UTC on every line.
let cachedHour = -1;
let cachedHourUs = 0;

function hourStartUs(year: number, month: number, day: number, hour: number): number {
  const key = ((year * 13 + month) * 32 + day) * 24 + hour;
  if (key !== cachedHour) {
    cachedHour = key;
    cachedHourUs = Date.UTC(year, month - 1, day, hour) * 1000;
  }
  return cachedHourUs;
}

/** Writes microseconds back as `YYYY-MM-DDTHH:MM:SS.ffffff`. */
export function formatEventTimeUs(us: number): string {
  const ms = Math.floor(us / 1000);
  return new Date(ms).toISOString().slice(0, 20) + String(us - Math.floor(ms / 1000) * 1_000_000).padStart(6, "0");
}

/**
 * Returns the time in the one output format, or null when it is not a valid event time.
 *
 *     normalizeEventTime("2022-02-08T18:06:56")      // "2022-02-08T18:06:56.000000"
 *     normalizeEventTime("2022-02-08T18:06:56.1451") // "2022-02-08T18:06:56.145100"
 */
export function normalizeEventTime(s: string): string | null {
  const us = parseEventTime(s);
  return Number.isNaN(us) ? null : formatEventTimeUs(us);
}
