/**
 * HTTP/1.1 message heads on the wire, for the router's hot path (RFC 9112). Node's HTTP server and
 * undici cost ~20 µs of CPU a request between them, most of the router's budget (bench/route.ts),
 * so the hot path parses its own messages — strictly: the request parser takes only the plain
 * GET/HEAD heads the fast path serves and sends everything else (other methods, bodies, upgrades,
 * anything unusual or malformed) to Node's server, which is the one that answers errors. The
 * response parser reads what an upstream API replica answers and calls anything it does not
 * understand a failed try.
 */

const CRLF2 = Buffer.from("\r\n\r\n", "latin1");
/** A request head longer than this is not a fast-path request (Node's own limit is 16 KiB). */
export const MAX_REQUEST_HEAD = 16 * 1024;
/** An upstream answer head longer than this is a failed try. */
export const MAX_RESPONSE_HEAD = 64 * 1024;

/** RFC 9110 token characters (header names, methods). */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** Field values: visible characters, spaces and tabs (no CR, LF or NUL). */
const FIELD_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;
/** Origin-form request targets: visible ASCII. */
const TARGET = /^\/[!-~]*$/;
const STATUS_LINE = /^HTTP\/1\.[01] [1-9]\d\d(?: [\t\x20-\x7e\x80-\xff]*)?$/;

export interface RequestHead {
  method: "GET" | "HEAD";
  /** The request target as sent (origin form, e.g. `/recommend/42?x=1`). */
  target: string;
  /** Whether the connection stays open after the answer (HTTP/1.1 default; 1.0 on request). */
  keepAlive: boolean;
  /** HTTP/1.0 clients get `connection: keep-alive` echoed when they asked for it. */
  http10: boolean;
  /** Header fields as `[name, value, name, value, ...]`, names in lower case. */
  headers: string[];
  /** Bytes of the head, blank line included. */
  length: number;
}

/** Not a fast-path request: hand the connection to Node's HTTP server. */
export const OTHER = "other";

/**
 * Parses the request head starting at `buf[start]`. Returns null when the head is not complete
 * yet, {@link OTHER} when the fast path does not take it (see the file comment; `accept` decides
 * on the target), else the head.
 */
export function parseRequestHead(buf: Buffer, start: number, accept: (target: string) => boolean): RequestHead | null | typeof OTHER {
  const end = buf.indexOf(CRLF2, start);
  if (end < 0) return buf.length - start > MAX_REQUEST_HEAD ? OTHER : null;
  if (end - start > MAX_REQUEST_HEAD) return OTHER;
  // Scanned with indexOf rather than split and a regex per line: this runs on every request.
  const text = buf.toString("latin1", start, end);
  const eol = lineEnd(text, 0);
  const method = text.startsWith("GET ") ? "GET" : text.startsWith("HEAD ") ? "HEAD" : null;
  if (method === null) return OTHER;
  const space = text.indexOf(" ", method.length + 1);
  if (space < 0 || eol !== space + 9 || !text.startsWith("HTTP/1.", space + 1)) return OTHER;
  const minor = text.charCodeAt(space + 8);
  if (minor !== 0x30 && minor !== 0x31) return OTHER;
  const target = text.slice(method.length + 1, space);
  if (!TARGET.test(target) || !accept(target)) return OTHER;
  const http10 = minor === 0x30;
  const headers: string[] = [];
  let hosts = 0;
  const connection = new ConnectionTokens();
  for (let at = eol + 2; at < text.length;) {
    const next = lineEnd(text, at);
    if (!pushField(text, at, next, headers)) return OTHER;
    at = next + 2;
    const value = headers[headers.length - 1];
    switch (headers[headers.length - 2]) {
      case "host": hosts++; break;
      // A request body, a protocol switch or an expectation: Node's server handles those.
      case "content-length": if (value !== "0") return OTHER; break;
      case "transfer-encoding": case "upgrade": case "expect": return OTHER;
      case "connection": connection.add(value); break;
    }
  }
  // RFC 9112 3.2: an HTTP/1.1 request has exactly one Host (Node's server answers the 400).
  if (!http10 && hosts !== 1) return OTHER;
  return { method, target, keepAlive: connection.persists(http10), http10, headers, length: end + 4 - start };
}

/** The Connection field's close and keep-alive tokens, over every Connection line of a message. */
class ConnectionTokens {
  private close = false;
  private keepAlive = false;

  add(value: string): void {
    if (/(^|[\s,])close([\s,]|$)/i.test(value)) this.close = true;
    if (/(^|[\s,])keep-alive([\s,]|$)/i.test(value)) this.keepAlive = true;
  }

  /** RFC 9112 9.3: HTTP/1.1 persists unless closed; HTTP/1.0 only when asked and not closed. */
  persists(http10: boolean): boolean {
    return http10 ? this.keepAlive && !this.close : !this.close;
  }
}

function lineEnd(text: string, from: number): number {
  const i = text.indexOf("\r\n", from);
  return i < 0 ? text.length : i;
}

/**
 * Appends the field `text[from, to)` (`name: value`) to `headers` as the lower-case name and the
 * value without surrounding whitespace; false if it is malformed or folded.
 */
function pushField(text: string, from: number, to: number, headers: string[]): boolean {
  const colon = text.indexOf(":", from);
  if (colon <= from || colon > to) return false;
  const name = text.slice(from, colon);
  const value = text.slice(colon + 1, to).trim();
  if (!TOKEN.test(name) || !FIELD_VALUE.test(value)) return false;
  headers.push(name.toLowerCase(), value);
  return true;
}

/** How the body of an answer ends. */
export const BODY_UNTIL_CLOSE = -1;
export const BODY_CHUNKED = -2;

export interface ResponseHead {
  status: number;
  /** `[name, value, ...]`, names in lower case. */
  headers: string[];
  /** Content length, or {@link BODY_CHUNKED}, or {@link BODY_UNTIL_CLOSE}. */
  bodyLength: number;
  /** Whether the connection can carry another request after this answer. */
  keepAlive: boolean;
  /** Bytes of the head, blank line included. */
  length: number;
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
  const text = buf.toString("latin1", start, end);
  const eol = lineEnd(text, 0);
  if (!STATUS_LINE.test(eol === text.length ? text : text.slice(0, eol))) return new Error(`bad status line '${text.slice(0, Math.min(eol, 80))}'`);
  const http10 = text.charCodeAt(7) === 0x30;
  const status = Number(text.slice(9, 12));
  const headers: string[] = [];
  let contentLength = -1;
  let chunked = false;
  const connection = new ConnectionTokens();
  for (let at = eol + 2; at < text.length;) {
    const next = lineEnd(text, at);
    if (!pushField(text, at, next, headers)) return new Error(`bad header line '${text.slice(at, Math.min(next, at + 80))}'`);
    at = next + 2;
    const value = headers[headers.length - 1];
    switch (headers[headers.length - 2]) {
      case "content-length": {
        if (!/^\d{1,15}$/.test(value)) return new Error(`bad content-length '${value.slice(0, 40)}'`);
        const n = Number(value);
        if (contentLength >= 0 && n !== contentLength) return new Error("two different content-lengths");
        contentLength = n;
        break;
      }
      case "transfer-encoding":
        // Only plain chunked: any other coding would reach the client still encoded.
        if (value.toLowerCase() !== "chunked") return new Error(`unsupported transfer-encoding '${value.slice(0, 40)}'`);
        chunked = true;
        break;
      case "connection": connection.add(value); break;
    }
  }
  const length = end + 4 - start;
  if (status < 200) return { status, headers, bodyLength: 0, keepAlive: true, length };
  let keepAlive = connection.persists(http10);
  let bodyLength: number;
  if (toHead || status === 204 || status === 304) bodyLength = 0;
  else if (chunked) {
    bodyLength = BODY_CHUNKED;
    // RFC 9112 6.3: a message with both framings must not be reused.
    if (contentLength >= 0) keepAlive = false;
  } else if (contentLength >= 0) bodyLength = contentLength;
  else {
    bodyLength = BODY_UNTIL_CLOSE;
    keepAlive = false;
  }
  return { status, headers, bodyLength, keepAlive, length };
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
