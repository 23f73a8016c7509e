import { connect, type Socket } from "node:net";
import { performance } from "node:perf_hooks";
import { BODY_CHUNKED, BODY_UNTIL_CLOSE, ChunkedBody, parseResponseHead, type ResponseHead } from "./http-wire.ts";

/** What one try at an upstream hears back. Exactly one of the two is called, at most once. */
export interface TryHandler {
  /**
   * `fields` are the answer's end-to-end header lines (`Name: value\r\n` each); `body` is valid
   * only during the call (it may be a view of the pool's read buffer).
   */
  onAnswer(status: number, fields: string, body: Buffer): void;
  /** `refused`: nothing listens there (the process is gone); `broken`: anything else. */
  onFailure(kind: "refused" | "broken", detail: string): void;
}

export interface UpstreamPool {
  /**
   * Sends `METHOD target` to the upstream at `url` (`http://host:port`) on a kept-alive
   * connection, with `headerLines` (`name: value\r\n` each, end-to-end headers only) after the
   * Host line. Returns a cancel function: the handler is then never called, and a connection
   * caught mid-answer is closed rather than reused.
   */
  send(url: string, method: string, target: string, headerLines: string, handler: TryHandler): () => void;
  /** Closes every connection; later sends fail. */
  close(): void;
}

export interface UpstreamPoolOptions {
  /** Connections per upstream; tries beyond wait for one to come free (undici's default is unlimited). */
  maxConnections?: number;
  /** An idle connection is closed after this long, before a Node upstream's 5 s keep-alive does it mid-send. */
  idleMs?: number;
  /** An answer body longer than this is a failed try. */
  maxBody?: number;
}

interface Waiting {
  method: string;
  target: string;
  headerLines: string;
  handler: TryHandler | null;
}

/**
 * Keep-alive HTTP/1.1 connections to the upstream replicas, one request at a time per connection
 * (no pipelining: a slow answer must not hold up the next user's). The answer is read whole (they
 * are one short line) with http-wire's strict parser.
 *
 *     const pool = createUpstreamPool();
 *     const cancel = pool.send("http://127.0.0.1:8083", "GET", "/recommend/42", "", handler);
 */
export function createUpstreamPool(opts: UpstreamPoolOptions = {}): UpstreamPool {
  const maxConnections = opts.maxConnections ?? 1024;
  const idleMs = opts.idleMs ?? 4000;
  const maxBody = opts.maxBody ?? 8 * 1024 * 1024;
  const origins = new Map<string, Origin>();
  let closed = false;
  const readBuffer = Buffer.allocUnsafe(64 * 1024);

  interface Origin {
    host: string;
    port: number;
    /** What follows the request target: the protocol and the Host line. */
    targetTail: string;
    idle: Conn[];
    open: number;
    waiting: Waiting[];
  }

  const originOf = (url: string): Origin => {
    let o = origins.get(url);
    if (!o) {
      const u = new URL(url);
      o = { host: u.hostname.replace(/^\[|\]$/g, ""), port: Number(u.port || 80), targetTail: ` HTTP/1.1\r\nhost: ${u.host}\r\n`, idle: [], open: 0, waiting: [] };
      origins.set(url, o);
    }
    return o;
  };

  /** One connection: sends a request, parses its answer, goes back to the idle list. */
  class Conn {
    readonly socket: Socket;
    handler: TryHandler | null = null;
    toHead = false;
    connected = false;
    /** Bytes of the current answer received so far (head not yet parsed, or body). */
    buffered: Buffer | null = null;
    head: ResponseHead | null = null;
    bodyParts: Buffer[] = [];
    bodySize = 0;
    chunked: ChunkedBody | null = null;
    idleSince = 0;

    constructor(readonly origin: Origin) {
      origin.open++;
      // Reads land in the pool's one buffer and are handled at once: no stream machinery and no
      // allocation per read (about a tenth of the router's CPU per request otherwise).
      this.socket = connect({ host: origin.host, port: origin.port, noDelay: true, onread: { buffer: readBuffer, callback: (n: number) => { this.onData(readBuffer.subarray(0, n)); return true; } } });
      this.socket.on("connect", () => { this.connected = true; });
      this.socket.on("end", () => this.onEnd());
      this.socket.on("error", (err: NodeJS.ErrnoException) => this.fail(err.code === "ECONNREFUSED" ? "refused" : "broken", err.code ?? err.message));
      this.socket.on("close", () => this.onClose());
    }

    start(method: string, target: string, headerLines: string, handler: TryHandler): void {
      this.handler = handler;
      this.toHead = method === "HEAD";
      this.socket.write(`${method} ${target}${this.origin.targetTail}${headerLines}\r\n`, "latin1");
    }

    /** `chunk` is a view of the read buffer: whatever outlives this call is copied. */
    onData(chunk: Buffer): void {
      if (this.handler === null) {
        // Bytes nobody asked for (or after a cancel): this connection's framing can't be trusted.
        this.socket.destroy();
        return;
      }
      let buf = this.buffered === null ? chunk : Buffer.concat([this.buffered, chunk]);
      this.buffered = null;
      let at = 0;
      while (this.head === null) {
        const head = parseResponseHead(buf, at, this.toHead);
        if (head === null) { this.buffered = Buffer.from(buf.subarray(at)); return; }
        if (head instanceof Error) return this.fail("broken", head.message);
        at += head.length;
        if (head.status === 101) return this.fail("broken", "upstream switched protocols");
        if (head.bodyLength > maxBody) return this.fail("broken", `answer body over ${maxBody} bytes`);
        if (head.status >= 200) {
          this.head = head;
          if (head.bodyLength === BODY_CHUNKED) this.chunked = new ChunkedBody();
        }
        if (at === buf.length) { if (this.head?.bodyLength !== 0) return; buf = EMPTY; at = 0; }
      }
      const { bodyLength } = this.head;
      if (this.chunked !== null) {
        const end = this.chunked.feed(buf, at, maxBody);
        if (end instanceof Error) return this.fail("broken", end.message);
        if (end >= 0) this.answered(end < buf.length);
        return;
      }
      if (at < buf.length) {
        this.bodyParts.push(at === 0 ? buf : buf.subarray(at));
        this.bodySize += buf.length - at;
      }
      if (bodyLength === BODY_UNTIL_CLOSE && this.bodySize > maxBody) return this.fail("broken", `answer body over ${maxBody} bytes`);
      if (bodyLength !== BODY_UNTIL_CLOSE && this.bodySize >= bodyLength) return this.answered(this.bodySize > bodyLength);
      // The answer goes on in a later read: keep this part past the read buffer's reuse.
      const last = this.bodyParts.length - 1;
      if (last >= 0 && this.bodyParts[last].buffer === readBuffer.buffer) this.bodyParts[last] = Buffer.from(this.bodyParts[last]);
    }

    /** The answer is complete; `extra` says bytes came after it (the connection is then not reused). */
    answered(extra: boolean): void {
      const head = this.head!;
      const handler = this.handler!;
      const body = this.chunked !== null ? Buffer.concat(this.chunked.parts) : this.bodyParts.length === 1 ? this.bodyParts[0] : Buffer.concat(this.bodyParts);
      this.reset();
      if (head.keepAlive && !extra && !closed) release(this);
      else this.socket.destroy();
      handler.onAnswer(head.status, head.fields, head.bodyLength >= 0 ? body.subarray(0, head.bodyLength) : body);
    }

    reset(): void {
      this.handler = null;
      this.head = null;
      this.buffered = null;
      this.bodyParts = [];
      this.bodySize = 0;
      this.chunked = null;
    }

    onEnd(): void {
      if (this.head?.bodyLength === BODY_UNTIL_CLOSE) this.answered(true);
      else this.fail("broken", "upstream closed the connection before the answer was complete");
    }

    fail(kind: "refused" | "broken", detail: string): void {
      const handler = this.handler;
      this.reset();
      this.socket.destroy();
      const i = this.origin.idle.indexOf(this);
      if (i >= 0) this.origin.idle.splice(i, 1);
      handler?.onFailure(kind, detail);
    }

    onClose(): void {
      this.origin.open--;
      this.fail(this.connected ? "broken" : "refused", "connection closed");
      next(this.origin);
    }
  }

  /** A finished connection serves the next waiting try, or waits (newest first) for one. */
  const release = (conn: Conn): void => {
    const w = conn.origin.waiting.shift();
    if (w !== undefined && w.handler !== null) return conn.start(w.method, w.target, w.headerLines, w.handler);
    if (w !== undefined) return release(conn);
    conn.idleSince = performance.now();
    conn.origin.idle.push(conn);
  };

  /** Opens a connection for the next waiting try when one closed. */
  const next = (o: Origin): void => {
    while (o.waiting.length > 0 && o.waiting[0].handler === null) o.waiting.shift();
    if (closed || o.waiting.length === 0 || o.open >= maxConnections) return;
    const w = o.waiting.shift()!;
    new Conn(o).start(w.method, w.target, w.headerLines, w.handler!);
  };

  const sweep = setInterval(() => {
    const before = performance.now() - idleMs;
    for (const o of origins.values()) {
      // The idle list is oldest first: close from the front while they are stale.
      while (o.idle.length > 0 && o.idle[0].idleSince < before) o.idle.shift()!.socket.destroy();
    }
  }, Math.max(100, idleMs / 4));
  sweep.unref();

  return {
    send(url, method, target, headerLines, handler) {
      if (closed) {
        handler.onFailure("broken", "router closing");
        return () => {};
      }
      const o = originOf(url);
      const idle = o.idle.pop();
      if (idle !== undefined || o.open < maxConnections) {
        const conn = idle ?? new Conn(o);
        conn.start(method, target, headerLines, handler);
        return () => {
          if (conn.handler !== handler) return;
          conn.reset();
          conn.socket.destroy();
        };
      }
      const w: Waiting = { method, target, headerLines, handler };
      o.waiting.push(w);
      return () => { w.handler = null; };
    },
    close() {
      closed = true;
      clearInterval(sweep);
      for (const o of origins.values()) {
        for (const w of o.waiting) w.handler?.onFailure("broken", "router closing");
        o.waiting = [];
        for (const conn of o.idle.splice(0)) conn.socket.destroy();
      }
    },
  };
}

const EMPTY = Buffer.alloc(0);
