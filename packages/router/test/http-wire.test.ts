import { describe, expect, it } from "vitest";
import {
  BODY_CHUNKED, BODY_UNTIL_CLOSE, ChunkedBody, MAX_REQUEST_HEAD, MAX_RESPONSE_HEAD, OTHER,
  parseRequestHead, parseResponseHead, type RequestHead, type ResponseHead,
} from "../src/http-wire.ts";
import { forwardedLines, linesToPairs } from "../src/http-fields.ts";

/** A message head: the lines joined with CRLF, ended by the blank line. */
function head(...lines: string[]): Buffer {
  return Buffer.from(`${lines.join("\r\n")}\r\n\r\n`, "latin1");
}

const recommendOnly = (target: string) => target.startsWith("/recommend/");

function request(buf: Buffer, start = 0, accept = recommendOnly): RequestHead | null | typeof OTHER {
  return parseRequestHead(buf, start, accept);
}

/** Parses a request head that must be a fast-path one. */
function fastRequest(buf: Buffer, start = 0): RequestHead {
  const parsed = request(buf, start);
  if (parsed === null || parsed === OTHER) throw new Error(`expected a fast-path head, got ${String(parsed)}`);
  return parsed;
}

function response(buf: Buffer, toHead = false, start = 0): ResponseHead | null | Error {
  return parseResponseHead(buf, start, toHead);
}

/** Parses an answer head that must be well formed. */
function goodResponse(buf: Buffer, toHead = false, start = 0): ResponseHead {
  const parsed = response(buf, toHead, start);
  if (parsed === null || parsed instanceof Error) throw new Error(`expected an answer head, got ${String(parsed)}`);
  return parsed;
}

/** Every proper prefix of `buf`, one byte longer each time. */
function prefixes(buf: Buffer): Buffer[] {
  return Array.from({ length: buf.length }, (_, n) => buf.subarray(0, n));
}

describe("parseRequestHead", () => {
  it("parses a plain GET with Host: method, target, the end-to-end lines as sent, length", () => {
    const buf = head("GET /recommend/42?x=1 HTTP/1.1", "Host: router:8082", "X-Request-Id:  abc  ", "Accept: */*");
    expect(fastRequest(buf)).toEqual({
      method: "GET", target: "/recommend/42?x=1", keepAlive: true, http10: false,
      fields: "X-Request-Id:  abc  \r\nAccept: */*\r\n",
      length: buf.length,
    });
  });

  it("passes on every end-to-end line and none of the hop-by-hop, framing or router-set ones, in any case", () => {
    const dropped = ["Host: h", "Connection: keep-alive", "KEEP-ALIVE: timeout=5", "Proxy-Connection: x", "TE: trailers", "Trailer: x", "content-length: 0", "Date: now", "X-Release: v9"];
    const kept = ["X-A: 1", "Accept: */*", "X-Hosted: 2", "Dated: 3", "X-Releases: 4", "Te-X: 5"];
    // Interleaved, so kept lines come in several runs.
    const lines = dropped.flatMap((d, i) => (kept[i] === undefined ? [d] : [d, kept[i]]));
    expect(fastRequest(head("GET /recommend/1 HTTP/1.1", ...lines)).fields).toBe(kept.map((k) => `${k}\r\n`).join(""));
  });

  it("drops the fields a Connection line names as hop-by-hop, in any case, keeping the rest as they were", () => {
    const buf = head("GET /recommend/1 HTTP/1.1", "Host: h", "X-Trace: t1", "Connection: keep-alive, X-Hop", "x-hop: secret", "connection: X-Other ,close", "X-Other: 2", "X-Keep:  a  b");
    expect(fastRequest(buf)).toMatchObject({ keepAlive: false, fields: "X-Trace: t1\r\nX-Keep: a  b\r\n" });
  });

  it("parses HEAD", () => {
    expect(fastRequest(head("HEAD /recommend/7 HTTP/1.1", "Host: h"))).toMatchObject({ method: "HEAD", target: "/recommend/7", keepAlive: true });
  });

  it("HTTP/1.0: closes by default, keeps alive on `Connection: keep-alive`, needs no Host", () => {
    expect(fastRequest(head("GET /recommend/1 HTTP/1.0"))).toMatchObject({ http10: true, keepAlive: false });
    expect(fastRequest(head("GET /recommend/1 HTTP/1.0", "Connection: Keep-Alive"))).toMatchObject({ http10: true, keepAlive: true });
    expect(fastRequest(head("GET /recommend/1 HTTP/1.0", "Host: h", "Connection: keep-alive"))).toMatchObject({ http10: true, keepAlive: true });
    expect(fastRequest(head("GET /recommend/1 HTTP/1.0", "Connection: keep-alive, close"))).toMatchObject({ keepAlive: false });
  });

  it("HTTP/1.1: `Connection: close` (any case, in a token list) ends the connection", () => {
    for (const value of ["close", "Close", "foo, close", "close,te"]) {
      expect(fastRequest(head("GET /recommend/1 HTTP/1.1", "Host: h", `Connection: ${value}`)).keepAlive, value).toBe(false);
    }
    // Not the close token: the connection stays open.
    expect(fastRequest(head("GET /recommend/1 HTTP/1.1", "Host: h", "Connection: closed")).keepAlive).toBe(true);
    expect(fastRequest(head("GET /recommend/1 HTTP/1.1", "Host: h", "Connection: keep-alive")).keepAlive).toBe(true);
  });

  it("returns null until the head is complete, at every byte boundary", () => {
    const buf = head("GET /recommend/42 HTTP/1.1", "Host: h", "Accept: */*");
    for (const part of prefixes(buf)) expect(request(part), `${part.length} bytes`).toBeNull();
    expect(fastRequest(buf).length).toBe(buf.length);
  });

  it("parses a head that arrived over several buffers once they are joined", () => {
    const buf = head("GET /recommend/42 HTTP/1.1", "Host: h");
    const pieces = [buf.subarray(0, 5), buf.subarray(5, 20), buf.subarray(20, buf.length - 1), buf.subarray(buf.length - 1)];
    let joined = Buffer.alloc(0);
    const results = pieces.map((piece) => request((joined = Buffer.concat([joined, piece]))));
    expect(results.slice(0, -1)).toEqual([null, null, null]);
    expect(results.at(-1)).toMatchObject({ target: "/recommend/42", length: buf.length });
  });

  it("parses two pipelined heads in one buffer, the second from the first's length", () => {
    const first = head("GET /recommend/1 HTTP/1.1", "Host: h");
    const second = head("HEAD /recommend/2 HTTP/1.1", "Host: h", "Connection: close");
    const buf = Buffer.concat([first, second]);
    const a = fastRequest(buf);
    expect(a).toMatchObject({ method: "GET", target: "/recommend/1", length: first.length });
    const b = fastRequest(buf, a.length);
    expect(b).toMatchObject({ method: "HEAD", target: "/recommend/2", keepAlive: false, length: second.length });
    expect(a.length + b.length).toBe(buf.length);
    // A third head that has only begun: null, not a misparse of what is left.
    expect(request(Buffer.concat([buf, Buffer.from("GET /rec")]), buf.length)).toBeNull();
  });

  it("accepts `Content-Length: 0`", () => {
    expect(fastRequest(head("GET /recommend/1 HTTP/1.1", "Host: h", "Content-Length: 0")).fields).toBe("");
  });

  const others: [string, Buffer][] = [
    ["POST", head("POST /recommend/1 HTTP/1.1", "Host: h", "Content-Length: 0")],
    ["a lower-case method", head("get /recommend/1 HTTP/1.1", "Host: h")],
    ["a body by Content-Length", head("GET /recommend/1 HTTP/1.1", "Host: h", "Content-Length: 5")],
    ["a body by Transfer-Encoding", head("GET /recommend/1 HTTP/1.1", "Host: h", "Transfer-Encoding: chunked")],
    ["Upgrade", head("GET /recommend/1 HTTP/1.1", "Host: h", "Connection: upgrade", "Upgrade: websocket")],
    ["Expect", head("GET /recommend/1 HTTP/1.1", "Host: h", "Expect: 100-continue")],
    ["no Host on HTTP/1.1", head("GET /recommend/1 HTTP/1.1", "Accept: */*")],
    ["two Hosts", head("GET /recommend/1 HTTP/1.1", "Host: a", "Host: b")],
    ["obs-fold (a line starting with a space)", head("GET /recommend/1 HTTP/1.1", "Host: h", "X-Long: one", " two")],
    ["obs-fold (a line starting with a tab)", head("GET /recommend/1 HTTP/1.1", "Host: h", "X-Long: one", "\tX-More: two")],
    ["a header name with a space", head("GET /recommend/1 HTTP/1.1", "Host : h")],
    ["a header name with a bad character", head("GET /recommend/1 HTTP/1.1", "Host: h", "X(y): 1")],
    ["a line without a colon", head("GET /recommend/1 HTTP/1.1", "Host: h", "garbage")],
    ["a bare LF inside a value", head("GET /recommend/1 HTTP/1.1", "Host: h", "X-A: one\ntwo")],
    ["a NUL inside a value", head("GET /recommend/1 HTTP/1.1", "Host: h", "X-A: one\0two")],
    ["a target the fast path does not take", head("GET /admin/state HTTP/1.1", "Host: h")],
    ["an absolute-form target", head("GET http://h/recommend/1 HTTP/1.1", "Host: h")],
    ["HTTP/2.0", head("GET /recommend/1 HTTP/2.0", "Host: h")],
    ["a space in the target", head("GET /recommend/1 2 HTTP/1.1", "Host: h")],
  ];
  it.each(others)("hands %s to Node's server (OTHER)", (_, buf) => {
    expect(request(buf)).toBe(OTHER);
  });

  it("asks `accept` about the target as sent", () => {
    const seen: string[] = [];
    const parsed = parseRequestHead(head("GET /anything?q=1 HTTP/1.1", "Host: h"), 0, (t) => { seen.push(t); return true; });
    expect(seen).toEqual(["/anything?q=1"]);
    expect(parsed).toMatchObject({ target: "/anything?q=1" });
  });

  /** A complete head whose bytes before the blank line number exactly `size`. */
  function headOfSize(size: number): Buffer {
    const start = "GET /recommend/1 HTTP/1.1\r\nHost: h\r\nX-Pad: ";
    return Buffer.from(`${start}${"p".repeat(size - start.length)}\r\n\r\n`, "latin1");
  }

  it("takes a head of up to 16 KiB and hands a longer one over, complete or not", () => {
    expect(fastRequest(headOfSize(MAX_REQUEST_HEAD)).length).toBe(MAX_REQUEST_HEAD + 4);
    expect(request(headOfSize(MAX_REQUEST_HEAD + 1))).toBe(OTHER);
    const unterminated = headOfSize(MAX_REQUEST_HEAD + 10).subarray(0, MAX_REQUEST_HEAD + 5);
    expect(request(unterminated)).toBe(OTHER);
    expect(request(unterminated.subarray(0, MAX_REQUEST_HEAD))).toBeNull();
  });
});

describe("parseResponseHead", () => {
  it("parses a content-length answer: status, end-to-end lines as received, body length, keep-alive, length", () => {
    const buf = head("HTTP/1.1 200 OK", "Content-Type: text/plain", "Content-Length: 5", "X-Commit: abc", "Date: Tue, 01 Dec 2026 20:03:33 GMT", "Connection: keep-alive", "Keep-Alive: timeout=30");
    expect(goodResponse(Buffer.concat([buf, Buffer.from("hello")]))).toEqual({
      status: 200, fields: "Content-Type: text/plain\r\nX-Commit: abc\r\n",
      bodyLength: 5, keepAlive: true, length: buf.length,
    });
  });

  it("drops the fields the answer's Connection line names", () => {
    const buf = head("HTTP/1.1 200 OK", "Connection: X-Hop", "X-Hop: 1", "X-Commit: abc", "Content-Length: 0");
    expect(goodResponse(buf)).toMatchObject({ fields: "X-Commit: abc\r\n", keepAlive: true });
  });

  it("accepts a status line without a reason phrase, and any 3-digit status", () => {
    expect(goodResponse(head("HTTP/1.1 503", "Content-Length: 0")).status).toBe(503);
    expect(goodResponse(head("HTTP/1.1 599 Whatever it likes", "Content-Length: 0")).status).toBe(599);
  });

  it("parses a chunked answer; with both Content-Length and chunked it is chunked and not reused", () => {
    expect(goodResponse(head("HTTP/1.1 200 OK", "Transfer-Encoding: chunked"))).toMatchObject({ bodyLength: BODY_CHUNKED, keepAlive: true });
    expect(goodResponse(head("HTTP/1.1 200 OK", "Transfer-Encoding: Chunked"))).toMatchObject({ bodyLength: BODY_CHUNKED });
    expect(goodResponse(head("HTTP/1.1 200 OK", "Content-Length: 10", "Transfer-Encoding: chunked"))).toMatchObject({ bodyLength: BODY_CHUNKED, keepAlive: false });
    expect(goodResponse(head("HTTP/1.1 200 OK", "Transfer-Encoding: chunked", "Content-Length: 10"))).toMatchObject({ bodyLength: BODY_CHUNKED, keepAlive: false });
  });

  it("reads an answer without a length until the connection closes, and does not reuse it", () => {
    expect(goodResponse(head("HTTP/1.1 200 OK", "Content-Type: text/plain"))).toMatchObject({ bodyLength: BODY_UNTIL_CLOSE, keepAlive: false });
  });

  it("has no body for 204, 304 and answers to HEAD, whatever the length says", () => {
    expect(goodResponse(head("HTTP/1.1 204 No Content"))).toMatchObject({ bodyLength: 0, keepAlive: true });
    expect(goodResponse(head("HTTP/1.1 304 Not Modified", "Content-Length: 120"))).toMatchObject({ bodyLength: 0, keepAlive: true });
    expect(goodResponse(head("HTTP/1.1 200 OK", "Content-Length: 120"), true)).toMatchObject({ bodyLength: 0, keepAlive: true });
    expect(goodResponse(head("HTTP/1.1 200 OK", "Transfer-Encoding: chunked"), true)).toMatchObject({ bodyLength: 0 });
    expect(goodResponse(head("HTTP/1.1 200 OK"), true)).toMatchObject({ bodyLength: 0, keepAlive: true });
  });

  it("does not reuse the connection after `Connection: close` (in any case or token list)", () => {
    for (const value of ["close", "CLOSE", "foo, close", "close, foo"]) {
      expect(goodResponse(head("HTTP/1.1 200 OK", "Content-Length: 0", `Connection: ${value}`)).keepAlive, value).toBe(false);
    }
    expect(goodResponse(head("HTTP/1.1 200 OK", "Content-Length: 0", "Connection: closed")).keepAlive).toBe(true);
    expect(goodResponse(head("HTTP/1.1 200 OK", "Content-Length: 0", "Connection: foo", "Connection: close")).keepAlive).toBe(false);
  });

  it("HTTP/1.0 answers keep the connection only with `Connection: keep-alive`", () => {
    expect(goodResponse(head("HTTP/1.0 200 OK", "Content-Length: 2"))).toMatchObject({ bodyLength: 2, keepAlive: false });
    expect(goodResponse(head("HTTP/1.0 200 OK", "Content-Length: 2", "Connection: Keep-Alive"))).toMatchObject({ keepAlive: true });
    expect(goodResponse(head("HTTP/1.0 200 OK", "Connection: keep-alive"))).toMatchObject({ bodyLength: BODY_UNTIL_CLOSE, keepAlive: false });
  });

  it("returns 1xx interim answers as they are, the final answer parsed after them", () => {
    const interim = head("HTTP/1.1 100 Continue");
    const hints = head("HTTP/1.1 103 Early Hints", "Link: </a.css>; rel=preload");
    const final = head("HTTP/1.1 200 OK", "Content-Length: 2");
    const buf = Buffer.concat([interim, hints, final, Buffer.from("ok")]);
    const first = goodResponse(buf);
    expect(first).toMatchObject({ status: 100, length: interim.length });
    const second = goodResponse(buf, false, first.length);
    expect(second).toMatchObject({ status: 103, fields: "Link: </a.css>; rel=preload\r\n", length: hints.length });
    expect(goodResponse(buf, false, first.length + second.length)).toMatchObject({ status: 200, bodyLength: 2 });
  });

  it("returns null until the head is complete, at every byte boundary", () => {
    const buf = head("HTTP/1.1 200 OK", "Content-Length: 5");
    for (const part of prefixes(buf)) expect(response(part), `${part.length} bytes`).toBeNull();
    expect(goodResponse(buf).bodyLength).toBe(5);
  });

  it("accepts the same Content-Length twice", () => {
    expect(goodResponse(head("HTTP/1.1 200 OK", "Content-Length: 5", "Content-Length: 5")).bodyLength).toBe(5);
  });

  const errors: [string, Buffer][] = [
    ["garbage", head("SSH-2.0-OpenSSH_9.6")],
    ["a two-digit status", head("HTTP/1.1 20 OK")],
    ["a status below 100", head("HTTP/1.1 099 Odd")],
    ["a status glued to its reason", head("HTTP/1.1 200OK")],
    ["HTTP/2", head("HTTP/2 200 OK")],
    ["a lower-case protocol", head("http/1.1 200 OK")],
    ["a non-numeric Content-Length", head("HTTP/1.1 200 OK", "Content-Length: five")],
    ["a negative Content-Length", head("HTTP/1.1 200 OK", "Content-Length: -1")],
    ["an empty Content-Length", head("HTTP/1.1 200 OK", "Content-Length:")],
    ["a Content-Length list", head("HTTP/1.1 200 OK", "Content-Length: 5, 5")],
    ["two different Content-Lengths", head("HTTP/1.1 200 OK", "Content-Length: 5", "Content-Length: 6")],
    ["Transfer-Encoding gzip", head("HTTP/1.1 200 OK", "Transfer-Encoding: gzip")],
    ["Transfer-Encoding gzip, chunked", head("HTTP/1.1 200 OK", "Transfer-Encoding: gzip, chunked")],
    ["an obs-folded header", head("HTTP/1.1 200 OK", "Content-Length: 0", "X-A: one", " two")],
    ["a header line without a colon", head("HTTP/1.1 200 OK", "Content-Length: 0", "oops")],
  ];
  it.each(errors)("calls %s an error", (_, buf) => {
    expect(response(buf)).toBeInstanceOf(Error);
  });

  /** An answer head whose bytes before the blank line number `size` (`terminated` or not). */
  function answerHeadOfSize(size: number, terminated: boolean): Buffer {
    const start = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nX-Pad: ";
    return Buffer.from(`${start}${"p".repeat(size - start.length)}${terminated ? "\r\n\r\n" : ""}`, "latin1");
  }

  it("waits for a head of up to 64 KiB and calls an unfinished longer one an error", () => {
    expect(response(answerHeadOfSize(MAX_RESPONSE_HEAD, false))).toBeNull();
    expect(goodResponse(answerHeadOfSize(MAX_RESPONSE_HEAD - 4, true)).status).toBe(200);
    const over = response(answerHeadOfSize(MAX_RESPONSE_HEAD + 1, false));
    expect(over).toBeInstanceOf(Error);
    expect((over as Error).message).toMatch(/over 65536/);
  });

  it("calls a complete head over 64 KiB an error too (MAX_RESPONSE_HEAD: 'longer than this is a failed try')", () => {
    // The limit must not depend on whether the blank line came in the same read.
    const parsed = response(answerHeadOfSize(MAX_RESPONSE_HEAD + 1000, true));
    expect(parsed, "a complete 65 KiB answer head was accepted; only unfinished heads are checked against MAX_RESPONSE_HEAD").toBeInstanceOf(Error);
  });
});

describe("ChunkedBody", () => {
  const WIKI = "4\r\nWiki\r\n5\r\npedia\r\nE\r\n in\r\n\r\nchunks.\r\n0\r\n\r\n";
  const WIKI_TEXT = "Wikipedia in\r\n\r\nchunks.";

  function decoded(body: ChunkedBody): string {
    return Buffer.concat(body.parts).toString("latin1");
  }

  /** Feeds the pieces in turn; returns each feed's result and the decoder. */
  function feedAll(pieces: Buffer[], maxBody = 1 << 20): { results: (number | Error)[]; body: ChunkedBody } {
    const body = new ChunkedBody();
    return { results: pieces.map((p) => body.feed(p, 0, maxBody)), body };
  }

  /** Feeds the text whole; returns the result (the index past the body, -1, or an Error). */
  function feedText(text: string, maxBody = 1 << 20): number | Error {
    return feedAll([Buffer.from(text, "latin1")], maxBody).results[0];
  }

  it("decodes a whole body and returns the index just past it", () => {
    const buf = Buffer.from(`${WIKI}HTTP/1.1 200 OK\r\n`, "latin1");
    const body = new ChunkedBody();
    expect(body.feed(buf, 0, 1 << 20)).toBe(WIKI.length);
    expect(decoded(body)).toBe(WIKI_TEXT);
    expect(body.size).toBe(WIKI_TEXT.length);
  });

  it("starts at the given index (the body after its head in one read)", () => {
    const buf = Buffer.from(`HEAD${WIKI}`, "latin1");
    const body = new ChunkedBody();
    expect(body.feed(buf, 4, 1 << 20)).toBe(buf.length);
    expect(decoded(body)).toBe(WIKI_TEXT);
  });

  it("decodes the body split at every byte boundary", () => {
    const buf = Buffer.from(WIKI, "latin1");
    for (let cut = 1; cut < buf.length; cut++) {
      const { results, body } = feedAll([buf.subarray(0, cut), buf.subarray(cut)]);
      expect(results, `cut at ${cut}`).toEqual([-1, buf.length - cut]);
      expect(decoded(body), `cut at ${cut}`).toBe(WIKI_TEXT);
    }
  });

  it("decodes the body fed one byte at a time", () => {
    const buf = Buffer.from(WIKI, "latin1");
    const { results, body } = feedAll(Array.from(buf, (b) => Buffer.from([b])));
    expect(results.slice(0, -1).every((r) => r === -1)).toBe(true);
    expect(results.at(-1)).toBe(1);
    expect(decoded(body)).toBe(WIKI_TEXT);
  });

  it("keeps its own copy of the data (the read buffer is reused)", () => {
    const buf = Buffer.from("5\r\nhello\r\n", "latin1");
    const body = new ChunkedBody();
    expect(body.feed(buf, 0, 100)).toBe(-1);
    buf.fill("x");
    expect(body.feed(Buffer.from("0\r\n\r\n"), 0, 100)).toBe(5);
    expect(decoded(body)).toBe("hello");
  });

  it("ignores chunk extensions and upper-case hex sizes", () => {
    const body = new ChunkedBody();
    const text = "A;name=value\r\n0123456789\r\n3 ; quoted=\"a;b\"\r\nabc\r\n0;last\r\n\r\n";
    expect(body.feed(Buffer.from(text, "latin1"), 0, 100)).toBe(text.length);
    expect(decoded(body)).toBe("0123456789abc");
  });

  it("reads past trailers and leaves them out of the data", () => {
    const text = "3\r\nabc\r\n0\r\nExpires: never\r\nX-Checksum: 42\r\n\r\n";
    const { results, body } = feedAll([Buffer.from(text, "latin1")]);
    expect(results).toEqual([text.length]);
    expect(decoded(body)).toBe("abc");
    // Trailers split mid-line are fine too.
    const cut = text.indexOf("Checksum");
    const split = feedAll([Buffer.from(text.slice(0, cut), "latin1"), Buffer.from(text.slice(cut), "latin1")]);
    expect(split.results).toEqual([-1, text.length - cut]);
  });

  it("needs the last CRLF before it says the body is over", () => {
    expect(feedText("3\r\nabc\r\n0\r\n")).toBe(-1);
    expect(feedText("3\r\nabc\r\n0\r\n\r")).toBe(-1);
    expect(feedText("3\r\nabc\r\n0\r\nX-T: 1\r\n")).toBe(-1);
  });

  const bad: [string, string][] = [
    ["a non-hex size", "g\r\nabc\r\n0\r\n\r\n"],
    ["an empty size line", "\r\nabc\r\n0\r\n\r\n"],
    ["a negative size", "-3\r\nabc\r\n0\r\n\r\n"],
    ["a size over 8 hex digits", "100000000\r\n"],
    ["a size line ended by a bare LF", "3\nabc\r\n0\r\n\r\n"],
    ["data longer than its size (no CRLF after the data)", "3\r\nabcd\r\n0\r\n\r\n"],
    ["a bare LF after the data", "3\r\nabc\n0\r\n\r\n"],
    ["a chunk line over 4096 bytes", `3;${"x".repeat(5000)}\r\nabc\r\n0\r\n\r\n`],
  ];
  it.each(bad)("calls %s an error", (_, text) => {
    expect(feedText(text)).toBeInstanceOf(Error);
  });

  it("calls a body over maxBody an error, and takes one of exactly maxBody", () => {
    expect(feedText(WIKI, WIKI_TEXT.length)).toBe(WIKI.length);
    const over = feedText(WIKI, WIKI_TEXT.length - 1);
    expect(over).toBeInstanceOf(Error);
    expect((over as Error).message).toMatch(/over/);
    // Also when the excess arrives in a later feed.
    const { results } = feedAll([Buffer.from("4\r\nWiki\r\n"), Buffer.from("5\r\npedia\r\n0\r\n\r\n")], 6);
    expect(results[0]).toBe(-1);
    expect(results[1]).toBeInstanceOf(Error);
  });
});

describe("header lines for the slow path", () => {
  it("keeps the end-to-end fields of a parsed header list as lines, in any case", () => {
    const raw = ["Host", "h", "X-Request-Id", "r-1", "CONNECTION", "close", "Transfer-Encoding", "chunked", "x-release", "v9", "Accept", "*/*"];
    expect(forwardedLines(raw)).toBe("X-Request-Id: r-1\r\nAccept: */*\r\n");
    const nominating = ["Connection", "x-request-id, Upgrade", "X-Request-Id", "r-1", "Accept", "*/*"];
    expect(forwardedLines(nominating), "a field the Connection line names").toBe("Accept: */*\r\n");
  });

  it("turns header lines back into name/value pairs", () => {
    expect(linesToPairs("X-A: 1\r\nx-b:two words \r\n")).toEqual(["X-A", "1", "x-b", "two words"]);
    expect(linesToPairs("")).toEqual([]);
  });
});
