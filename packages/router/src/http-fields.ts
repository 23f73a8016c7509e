/**
 * Header fields on the wire, read straight from the bytes of a message head (RFC 9110 5, RFC
 * 9112 5): which bytes may appear where, the few field names the router acts on, and the
 * Connection field's tokens. The head parsers (http-wire.ts) use these on every request, so
 * nothing here builds a string or runs a regex; a name is compared with the known ones byte by
 * byte, case-insensitively.
 */

const TOKEN = 1;
const VALUE = 2;
const TARGET = 4;

/** What each byte may be: a token character (names, methods), a field-value one, a request-target one. */
const BYTE_CLASS = (() => {
  const classes = new Uint8Array(256);
  const tokenSymbols = "!#$%&'*+-.^_`|~";
  for (let b = 0; b < 256; b++) {
    const alnum = (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a);
    if (alnum || tokenSymbols.includes(String.fromCharCode(b))) classes[b] |= TOKEN;
    // Visible characters, space, tab and obs-text; never CR, LF, NUL or another control.
    if (b === 0x09 || (b >= 0x20 && b !== 0x7f)) classes[b] |= VALUE;
    // Origin-form targets: visible ASCII.
    if (b > 0x20 && b < 0x7f) classes[b] |= TARGET;
  }
  return classes;
})();

const isTokenByte = (b: number): boolean => (BYTE_CLASS[b] & TOKEN) !== 0;
export const isValueByte = (b: number): boolean => (BYTE_CLASS[b] & VALUE) !== 0;
export const isTargetByte = (b: number): boolean => (BYTE_CLASS[b] & TARGET) !== 0;

/** The field names the router reads or does not pass on; anything else is `Field.Other`. */
const Field = {
  Other: 0, Host: 1, Connection: 2, ContentLength: 3, TransferEncoding: 4, Upgrade: 5, Expect: 6,
  KeepAlive: 7, ProxyConnection: 8, Te: 9, Trailer: 10, Date: 11, XRelease: 12,
} as const;
type Field = (typeof Field)[keyof typeof Field];

const FIELD_NAMES: [string, Field][] = [
  ["host", Field.Host], ["connection", Field.Connection], ["content-length", Field.ContentLength],
  ["transfer-encoding", Field.TransferEncoding], ["upgrade", Field.Upgrade], ["expect", Field.Expect],
  ["keep-alive", Field.KeepAlive], ["proxy-connection", Field.ProxyConnection], ["te", Field.Te],
  ["trailer", Field.Trailer], ["date", Field.Date], ["x-release", Field.XRelease],
];
const NAMES_BY_LENGTH: { bytes: Buffer; field: Field }[][] = [];
for (const [name, field] of FIELD_NAMES) (NAMES_BY_LENGTH[name.length] ??= []).push({ bytes: Buffer.from(name, "latin1"), field });
const FIELD_BY_NAME = new Map(FIELD_NAMES);

/**
 * Which known field `buf[from, to)` names, in any case. The bytes must be token characters:
 * then `b | 0x20` equals a lower-case letter only for that letter in either case, and equals
 * '-' only for '-' (its other match, CR, is not a token character).
 */
function fieldAt(buf: Uint8Array, from: number, to: number): Field {
  const candidates = NAMES_BY_LENGTH[to - from];
  if (candidates === undefined) return Field.Other;
  for (const { bytes, field } of candidates) {
    let i = 0;
    while (i < bytes.length && (buf[from + i] | 0x20) === bytes[i]) i++;
    if (i === bytes.length) return field;
  }
  return Field.Other;
}

/** {@link fieldAt} for a name Node's HTTP server already parsed. */
const fieldNamed = (name: string): Field => FIELD_BY_NAME.get(name.toLowerCase()) ?? Field.Other;

/**
 * Fields a proxy does not pass on, either way: hop-by-hop ones (RFC 9110 7.6.1), the framing
 * and Host, which each hop sets for itself, Expect (the fast path takes no body), Date (set by
 * the router for every answer, as nginx does) and X-Release, which only the router sets.
 */
function isForwarded(field: Field): boolean {
  return field === Field.Other;
}

/** Whether `buf[from, to)` equals `lower` in any case (`lower` in lower case: letters and '-'). */
function sameToken(buf: Uint8Array, from: number, to: number, lower: Uint8Array): boolean {
  if (to - from !== lower.length) return false;
  for (let i = 0; i < lower.length; i++) if ((buf[from + i] | 0x20) !== lower[i]) return false;
  return true;
}

const CLOSE = Buffer.from("close");
const KEEP_ALIVE = Buffer.from("keep-alive");
const CHUNKED = Buffer.from("chunked");

/** Whether a trimmed field value `buf[from, to)` is exactly `chunked`, in any case. */
const isChunked = (buf: Uint8Array, from: number, to: number): boolean => sameToken(buf, from, to, CHUNKED);

/** Connection tokens, as bits: see {@link connectionTokens}. */
const CONNECTION_CLOSE = 1;
const CONNECTION_KEEP_ALIVE = 2;
/** A token naming some other field, which is then hop-by-hop too (RFC 9110 7.6.1). */
const CONNECTION_NOMINATES = 4;

/**
 * The tokens of one Connection value (separated by commas and spaces or tabs), as
 * {@link CONNECTION_CLOSE} | {@link CONNECTION_KEEP_ALIVE} | {@link CONNECTION_NOMINATES} bits:
 * OR the bits of every Connection line of a message.
 */
function connectionTokens(buf: Uint8Array, from: number, to: number): number {
  let tokens = 0;
  let i = from;
  while (i < to) {
    while (i < to && (buf[i] === 0x2c || buf[i] === 0x20 || buf[i] === 0x09)) i++;
    const start = i;
    while (i < to && buf[i] !== 0x2c && buf[i] !== 0x20 && buf[i] !== 0x09) i++;
    if (sameToken(buf, start, i, CLOSE)) tokens |= CONNECTION_CLOSE;
    else if (sameToken(buf, start, i, KEEP_ALIVE)) tokens |= CONNECTION_KEEP_ALIVE;
    else if (i > start) tokens |= CONNECTION_NOMINATES;
  }
  return tokens;
}

/** RFC 9112 9.3: HTTP/1.1 persists unless closed; HTTP/1.0 only when asked and not closed. */
export function persists(tokens: number, http10: boolean): boolean {
  const close = (tokens & CONNECTION_CLOSE) !== 0;
  return http10 ? (tokens & CONNECTION_KEEP_ALIVE) !== 0 && !close : !close;
}

/** What a head's field lines say, as {@link scanFields} found them. */
export interface FieldFacts {
  /** Where the first malformed line starts (obs-fold, no colon, a bad byte), or -1. */
  badLine: number;
  hosts: number;
  /**
   * Content-Length: -1 when absent, else its value; {@link LENGTH_MALFORMED} when a value is
   * not 1 to 15 digits, {@link LENGTH_CONFLICT} when two values differ.
   */
  contentLength: number;
  /** Transfer-Encoding: 0 absent, 1 exactly `chunked`, 2 anything else. */
  transferEncoding: 0 | 1 | 2;
  /** Where the offending Content-Length or Transfer-Encoding value is, for error messages. */
  badValueStart: number;
  badValueEnd: number;
  upgrade: boolean;
  expect: boolean;
  /** {@link connectionTokens} of every Connection line. */
  connection: number;
  /** The forwarded lines ({@link isForwarded}) as sent, `Name: value\r\n` each. */
  forwarded: string;
}

export const LENGTH_MALFORMED = -2;
export const LENGTH_CONFLICT = -3;

/** One instance, refilled by every scan: parsing is synchronous and its callers copy what they keep. */
const facts: FieldFacts = {
  badLine: -1, hosts: 0, contentLength: -1, transferEncoding: 0, badValueStart: 0, badValueEnd: 0,
  upgrade: false, expect: false, connection: 0, forwarded: "",
};

/**
 * Scans the field lines of a head, `buf[from, end)` where `end` is the blank line's start (every
 * line ends in CRLF), and returns what they say. The result is reused by the next call.
 */
export function scanFields(buf: Buffer, from: number, end: number): Readonly<FieldFacts> {
  facts.badLine = -1;
  facts.hosts = 0;
  facts.contentLength = -1;
  facts.transferEncoding = 0;
  facts.upgrade = facts.expect = false;
  facts.connection = 0;
  let forwarded = "";
  /** Start of the current run of forwarded lines, sliced as one string when it ends. */
  let run = -1;
  let at = from;
  while (at < end) {
    const lineStart = at;
    while (isTokenByte(buf[at])) at++;
    if (at === lineStart || buf[at] !== 0x3a) return bad(lineStart);
    const field = fieldAt(buf, lineStart, at);
    at++;
    while (buf[at] === 0x20 || buf[at] === 0x09) at++;
    const valueStart = at;
    while (isValueByte(buf[at])) at++;
    if (buf[at] !== 0x0d || buf[at + 1] !== 0x0a) return bad(lineStart);
    let valueEnd = at;
    while (valueEnd > valueStart && (buf[valueEnd - 1] === 0x20 || buf[valueEnd - 1] === 0x09)) valueEnd--;
    at += 2;
    if (isForwarded(field)) {
      if (run < 0) run = lineStart;
      continue;
    }
    if (run >= 0) forwarded += buf.toString("latin1", run, lineStart);
    run = -1;
    noteField(buf, field, valueStart, valueEnd);
  }
  facts.forwarded = run >= 0 ? forwarded + buf.toString("latin1", run, end) : forwarded;
  if ((facts.connection & CONNECTION_NOMINATES) !== 0) {
    const pairs = linesToPairs(buf.toString("latin1", from, end));
    facts.forwarded = withoutNominated(linesToPairs(facts.forwarded), pairs);
  }
  return facts;
}

/**
 * The lines of `pairs` (`[name, value, ...]`) minus those a Connection field of `all` names:
 * a proxy must not pass those on (RFC 9110 7.6.1). Rare, so it may work on strings.
 */
function withoutNominated(pairs: readonly string[], all: readonly string[]): string {
  const named = new Set<string>();
  for (let i = 0; i < all.length; i += 2) {
    if (fieldNamed(all[i]) === Field.Connection) for (const token of all[i + 1].split(",")) named.add(token.trim().toLowerCase());
  }
  let out = "";
  for (let i = 0; i < pairs.length; i += 2) if (!named.has(pairs[i].toLowerCase())) out += `${pairs[i]}: ${pairs[i + 1]}\r\n`;
  return out;
}

function bad(lineStart: number): Readonly<FieldFacts> {
  facts.badLine = lineStart;
  return facts;
}

function noteField(buf: Buffer, field: Field, valueStart: number, valueEnd: number): void {
  switch (field) {
    case Field.Host: facts.hosts++; break;
    case Field.Upgrade: facts.upgrade = true; break;
    case Field.Expect: facts.expect = true; break;
    case Field.Connection: facts.connection |= connectionTokens(buf, valueStart, valueEnd); break;
    case Field.TransferEncoding: {
      // Only plain chunked, once: any other coding would reach the client still encoded.
      const before = facts.transferEncoding;
      facts.transferEncoding = before === 0 && isChunked(buf, valueStart, valueEnd) ? 1 : 2;
      if (before !== 2 && facts.transferEncoding === 2) noteBadValue(valueStart, valueEnd);
      break;
    }
    case Field.ContentLength: {
      if (facts.contentLength < -1) break;
      const n = digits(buf, valueStart, valueEnd);
      if (n < 0) noteBadValue(valueStart, valueEnd);
      facts.contentLength = n < 0 ? LENGTH_MALFORMED : facts.contentLength >= 0 && n !== facts.contentLength ? LENGTH_CONFLICT : n;
      break;
    }
  }
}

function noteBadValue(start: number, end: number): void {
  facts.badValueStart = start;
  facts.badValueEnd = end;
}

/** The number `buf[from, to)` spells in 1 to 15 decimal digits, else -1. */
function digits(buf: Uint8Array, from: number, to: number): number {
  if (to <= from || to - from > 15) return -1;
  let n = 0;
  for (let i = from; i < to; i++) {
    const d = buf[i] - 0x30;
    if (d < 0 || d > 9) return -1;
    n = n * 10 + d;
  }
  return n;
}

/**
 * The forwarded part of a header list Node's server parsed (`[name, value, ...]`), as header
 * lines (`name: value\r\n` each): for a request that came the slow way.
 */
export function forwardedLines(rawHeaders: readonly string[]): string {
  const kept: string[] = [];
  for (let i = 0; i < rawHeaders.length; i += 2) if (isForwarded(fieldNamed(rawHeaders[i]))) kept.push(rawHeaders[i], rawHeaders[i + 1]);
  return withoutNominated(kept, rawHeaders);
}

/** Header lines (`name: value\r\n` each) back as `[name, value, ...]`, for Node's `writeHead`. */
export function linesToPairs(lines: string): string[] {
  const pairs: string[] = [];
  for (let at = 0; at < lines.length;) {
    const end = lines.indexOf("\r\n", at);
    const colon = lines.indexOf(":", at);
    pairs.push(lines.slice(at, colon), lines.slice(colon + 1, end).trim());
    at = end + 2;
  }
  return pairs;
}
