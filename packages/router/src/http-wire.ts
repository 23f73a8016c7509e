/**
 * HTTP/1.1 message heads on the wire, for the router's hot path (RFC 9112). Node's HTTP server and
 * undici cost ~20 µs of CPU a request between them, most of the router's budget (bench/route.ts),
 * so the hot path parses its own messages, byte by byte (http-fields.ts) — strictly: the request
 * parser takes only the plain GET/HEAD heads the fast path serves and sends everything else
 * (other methods, bodies, upgrades, anything unusual or malformed) to Node's server, which is the
 * one that answers errors. The response parser reads what an upstream API replica answers and
 * calls anything it does not understand a failed try.
 */
import { LENGTH_CONFLICT, LENGTH_MALFORMED, isTargetByte, isValueByte, persists, scanFields, type FieldFacts } from "./http-fields.ts";

const CRLF = Buffer.from("\r\n", "latin1");
const CRLF2 = Buffer.from("\r\n\r\n", "latin1");
/** A request head longer than this is not a fast-path request (Node's own limit is 16 KiB). */
export const MAX_REQUEST_HEAD = 16 * 1024;
/** An upstream answer head longer than this is a failed try. */
export const MAX_RESPONSE_HEAD = 64 * 1024;

export interface RequestHead {
  method: "GET" | "HEAD";
  /** The request target as sent (origin form, e.g. `/recommend/42?x=1`). */
  target: string;
  /** Whether the connection stays open after the answer (HTTP/1.1 default; 1.0 on request). */
  keepAlive: boolean;
  /** HTTP/1.0 clients get `connection: keep-alive` echoed when they asked for it. */
  http10: boolean;
  /** The end-to-end header lines to pass on, as sent (`Name: value\r\n` each; see http-fields' isForwarded). */
  fields: string;
  /** Bytes of the head, blank line included. */
  length: number;
}

/** Not a fast-path request: hand the connection to Node's HTTP server. */
export const OTHER = "other";

const GET = Buffer.from("GET /", "latin1");
const HEAD = Buffer.from("HEAD /", "latin1");
const HTTP_1 = Buffer.from(" HTTP/1.", "latin1");

/** Whether `buf` holds `bytes` at `at`. */
function startsAt(buf: Buffer, at: number, bytes: Buffer): boolean {
  for (let i = 0; i < bytes.length; i++) if (buf[at + i] !== bytes[i]) return false;
  return true;
}

/** Whether `buf[at]` starts `CRLF`. */
const crlfAt = (buf: Buffer, at: number): boolean => buf[at] === 0x0d && buf[at + 1] === 0x0a;

/**
 * Parses the request head starting at `buf[start]`. Returns null when the head is not complete
 * yet, {@link OTHER} when the fast path does not take it (see the file comment; `accept` decides
 * on the target), else the head.
 */
export function parseRequestHead(buf: Buffer, start: number, accept: (target: string) => boolean): RequestHead | null | typeof OTHER {
  const end = buf.indexOf(CRLF2, start);
  if (end < 0) return buf.length - start > MAX_REQUEST_HEAD ? OTHER : null;
  if (end - start > MAX_REQUEST_HEAD) return OTHER;
  const method = startsAt(buf, start, GET) ? "GET" : startsAt(buf, start, HEAD) ? "HEAD" : null;
  if (method === null) return OTHER;
  const targetStart = start + method.length + 1;
  let at = targetStart;
  while (isTargetByte(buf[at])) at++;
  const minor = buf[at + HTTP_1.length];
  if (!startsAt(buf, at, HTTP_1) || (minor !== 0x30 && minor !== 0x31) || !crlfAt(buf, at + HTTP_1.length + 1)) return OTHER;
  const target = buf.toString("latin1", targetStart, at);
  if (!accept(target)) return OTHER;
  const http10 = minor === 0x30;
  const facts = scanFields(buf, at + HTTP_1.length + 3, end + 2);
  // A request body, a protocol switch or an expectation: Node's server handles those.
  if (facts.badLine >= 0 || facts.upgrade || facts.expect || facts.transferEncoding !== 0 || facts.contentLength > 0 || facts.contentLength < -1) return OTHER;
  // RFC 9112 3.2: an HTTP/1.1 request has exactly one Host (Node's server answers the 400).
  if (!http10 && facts.hosts !== 1) return OTHER;
  return { method, target, keepAlive: persists(facts.connection, http10), http10, fields: facts.forwarded, length: end + 4 - start };
}

/** How the body of an answer ends. */
export const BODY_UNTIL_CLOSE = -1;
export const BODY_CHUNKED = -2;

export interface ResponseHead {
  status: number;
  /** The end-to-end header lines to pass on, as received (`Name: value\r\n` each). */
  fields: string;
  /** Content length, or {@link BODY_CHUNKED}, or {@link BODY_UNTIL_CLOSE}. */
  bodyLength: number;
  /** Whether the connection can carry another request after this answer. */
  keepAlive: boolean;
  /** Bytes of the head, blank line included. */
  length: number;
}

const HTTP_1_ANSWER = Buffer.from("HTTP/1.", "latin1");

/** The status line `HTTP/1.x DDD[ reason]` at `buf[start]`: its status, or -1 when malformed. */
function statusAt(buf: Buffer, start: number, eol: number): number {
  const minor = buf[start + 7];
  if (!startsAt(buf, start, HTTP_1_ANSWER) || (minor !== 0x30 && minor !== 0x31) || buf[start + 8] !== 0x20) return -1;
  let status = 0;
  for (let i = start + 9; i < start + 12; i++) {
    const d = buf[i] - 0x30;
    if (d < 0 || d > 9) return -1;
    status = status * 10 + d;
  }
  if (status < 100) return -1;
  const after = start + 12;
  if (after === eol) return status;
  if (buf[after] !== 0x20) return -1;
  for (let i = after + 1; i < eol; i++) if (!isValueByte(buf[i])) return -1;
  return status;
}

/** The offending value {@link scanFields} pointed at, for an error message. */
function badValue(buf: Buffer, facts: Readonly<FieldFacts>): string {
  return buf.toString("latin1", facts.badValueStart, Math.min(facts.badValueEnd, facts.badValueStart + 40));
}

/**
 * Parses an upstream's answer head starting at `buf[start]`: null when incomplete, an Error when
 * it is not an answer this client understands. `toHead` says the request was HEAD (no body).
 * 1xx interim answers come back as they are (status < 200) for the caller to skip.
 */
export function parseResponseHead(buf: Buffer, start: number, toHead: boolean): ResponseHead | null | Error {
  const end = buf.indexOf(CRLF2, start);
  if (end < 0 || end - start > MAX_RESPONSE_HEAD) {
    return end < 0 && buf.length - start <= MAX_RESPONSE_HEAD ? null : new Error(`answer head over ${MAX_RESPONSE_HEAD} bytes`);
  }
  const eol = buf.indexOf(CRLF, start);
  const status = statusAt(buf, start, eol);
  if (status < 0) return new Error(`bad status line '${buf.toString("latin1", start, Math.min(eol, start + 80))}'`);
  const facts = scanFields(buf, eol + 2, end + 2);
  if (facts.badLine >= 0) {
    const lineEnd = buf.indexOf(CRLF, facts.badLine);
    return new Error(`bad header line '${buf.toString("latin1", facts.badLine, Math.min(lineEnd, facts.badLine + 80))}'`);
  }
  if (facts.contentLength === LENGTH_MALFORMED) return new Error(`bad content-length '${badValue(buf, facts)}'`);
  if (facts.contentLength === LENGTH_CONFLICT) return new Error("two different content-lengths");
  if (facts.transferEncoding === 2) return new Error(`unsupported transfer-encoding '${badValue(buf, facts)}'`);
  const length = end + 4 - start;
  if (status < 200) return { status, fields: facts.forwarded, bodyLength: 0, keepAlive: true, length };
  let keepAlive = persists(facts.connection, buf[start + 7] === 0x30);
  let bodyLength: number;
  if (toHead || status === 204 || status === 304) bodyLength = 0;
  else if (facts.transferEncoding === 1) {
    bodyLength = BODY_CHUNKED;
    // RFC 9112 6.3: a message with both framings must not be reused.
    if (facts.contentLength >= 0) keepAlive = false;
  } else if (facts.contentLength >= 0) bodyLength = facts.contentLength;
  else {
    bodyLength = BODY_UNTIL_CLOSE;
    keepAlive = false;
  }
  return { status, fields: facts.forwarded, bodyLength, keepAlive, length };
}

/**
 * Decodes a chunked body incrementally (RFC 9112 7.1): feed it bytes, it collects the data and
 * says when the body (trailers included, which are dropped) is over.
 */
export class ChunkedBody {
  private state: "size" | "data" | "dataEnd" | "trailer" = "size";
  private left = 0;
  private line = "";
  readonly parts: Buffer[] = [];
  size = 0;

  /**
   * Consumes bytes from `buf[start]`; returns the index just past the body when it ended in
   * this buffer, -1 when more is needed, or an Error.
   */
  feed(buf: Buffer, start: number, maxBody: number): number | Error {
    let i = start;
    while (i < buf.length) {
      if (this.state === "data") {
        const take = Math.min(this.left, buf.length - i);
        // A copy: `buf` may be a read buffer that is reused.
        this.parts.push(Buffer.from(buf.subarray(i, i + take)));
        this.size += take;
        if (this.size > maxBody) return new Error(`answer body over ${maxBody} bytes`);
        this.left -= take;
        i += take;
        if (this.left === 0) this.state = "dataEnd";
        continue;
      }
      const nl = buf.indexOf(10, i);
      const stop = nl < 0 ? buf.length : nl + 1;
      this.line += buf.toString("latin1", i, stop);
      i = stop;
      if (this.line.length > 4096) return new Error("chunk line over 4096 bytes");
      if (nl < 0) break;
      if (!this.line.endsWith("\r\n")) return new Error("chunk line without CRLF");
      const line = this.line.slice(0, -2);
      this.line = "";
      if (this.state === "dataEnd") {
        if (line !== "") return new Error("chunk data longer than its size");
        this.state = "size";
      } else if (this.state === "size") {
        const m = /^([0-9a-fA-F]{1,8})[\t ]*(?:;.*)?$/.exec(line);
        if (m === null) return new Error(`bad chunk size '${line.slice(0, 40)}'`);
        this.left = parseInt(m[1], 16);
        this.state = this.left === 0 ? "trailer" : "data";
      } else if (line === "") {
        return i;
      }
    }
    return -1;
  }
}
