import { connect, type Socket } from "node:net";
import { performance } from "node:perf_hooks";
import { BODY_CHUNKED, BODY_UNTIL_CLOSE, ChunkedBody, parseResponseHead, type ResponseHead } from "./http-wire.ts";

/**
 * How a try failed: `refused`, nothing listens there (the process is gone); `broken`, anything
 * else that went wrong on its connection; `dropped`, its connection was closed because of the
 * try ahead of it there (that one failed, timed out or ended the connection), which says nothing
 * about the upstream and the try was most likely never served.
 */
export type TryFailure = "refused" | "broken" | "dropped";

/** What one try at an upstream hears back. Exactly one of the two is called, at most once. */
export interface TryHandler {
  /**
   * `fields` are the answer's end-to-end header lines (`Name: value\r\n` each); `body` is valid
   * only during the call (it may be a view of the pool's read buffer).
   */
  onAnswer(status: number, fields: string, body: Buffer): void;
  onFailure(kind: TryFailure, detail: string): void;
}

export interface UpstreamPool {
  /**
   * Sends `METHOD target` to the upstream at `url` (`http://host:port`) on a kept-alive
   * connection, with `headerLines` (`name: value\r\n` each, end-to-end headers only) after the
   * Host line. Returns a cancel function: the handler is then never called, and a connection
   * whose next answer is the cancelled try's is closed rather than waited on.
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
  /**
   * Tries for one upstream that arrive in the same turn of the event loop go out together, up to
   * this many on one connection in one write (HTTP/1.1 pipelining); 1 sends one at a time.
   */
  batchSize?: number;
}

interface Waiting {
  method: string;
  target: string;
  headerLines: string;
  handler: TryHandler | null;
}

/**
 * Keep-alive HTTP/1.1 connections to the upstream replicas. Tries for one upstream that arrive
 * in the same turn of the event loop (under load, several clients' requests are read in one
 * turn) are written together on one connection, pipelined, and the next turn's go on another
 * idle connection: a connection takes a new batch only once it owes no answer, so a slow
 * answer holds up at most the tries that were sent with it, which the upstream received at the
 * same instant anyway. One write and usually one read for the batch instead of one each per try
 * is the router's largest saving per request (bench/route-ab.ts). Answers are read whole (they
 * are one short line) with http-wire's strict parser.
 *
 *     const pool = createUpstreamPool();
 *     const cancel = pool.send("http://127.0.0.1:8083", "GET", "/recommend/42", "", handler);
 */
export function createUpstreamPool(opts: UpstreamPoolOptions = {}): UpstreamPool {
  const maxConnections = opts.maxConnections ?? 1024;
  const idleMs = opts.idleMs ?? 4000;
  const maxBody = opts.maxBody ?? 8 * 1024 * 1024;
  const batchSize = opts.batchSize ?? 16;
  const origins = new Map<string, Origin>();
  let closed = false;
  const readBuffer = Buffer.allocUnsafe(64 * 1024);
  /** Connections with a batch gathered this turn, written at its end by `writeBatches`. */
  const gathering: Conn[] = [];
  let writeScheduled = false;

  interface Origin {
    host: string;
    port: number;
    /** What follows the request target: the protocol and the Host line. */
    targetTail: string;
    idle: Conn[];
    open: number;
    waiting: Waiting[];
    /** The connection this turn's tries for this upstream join, while its batch has room. */
    batch: Conn | null;
  }

  const originOf = (url: string): Origin => {
    let o = origins.get(url);
    if (!o) {
      const u = new URL(url);
      o = { host: u.hostname.replace(/^\[|\]$/g, ""), port: Number(u.port || 80), targetTail: ` HTTP/1.1\r\nhost: ${u.host}\r\n`, idle: [], open: 0, waiting: [], batch: null };
      origins.set(url, o);
    }
    return o;
  };

  const writeBatches = (): void => {
    writeScheduled = false;
    for (const conn of gathering) conn.write();
    gathering.length = 0;
  };

  /** One connection: sends batches of requests, parses their answers in order, goes back to the idle list. */
  class Conn {
    readonly socket: Socket;
    /** The tries whose answers this connection owes, oldest first; null: cancelled (its answer is not waited for). */
    owed: (TryHandler | null)[] = [];
    /** For each owed answer: the request was HEAD (an answer without a body). */
    owedToHead: boolean[] = [];
    /** Requests of this turn's batch, not yet written. */
    out = "";
    connected = false;
    /** Bytes of the current answer's head received so far, when it did not fit in one read. */
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

    /** Starts a batch on this connection (it owes nothing): this turn's later tries for the upstream join it. */
    gather(): void {
      this.origin.batch = this;
      gathering.push(this);
      if (!writeScheduled) {
        writeScheduled = true;
        // setImmediate runs after the poll phase, once every request read in this turn is in.
        setImmediate(writeBatches);
      }
    }

    ask(method: string, target: string, headerLines: string, handler: TryHandler): void {
      this.owed.push(handler);
      this.owedToHead.push(method === "HEAD");
      this.out += `${method} ${target}${this.origin.targetTail}${headerLines}\r\n`;
    }

    write(): void {
      if (this.origin.batch === this) this.origin.batch = null;
      if (this.out === "") return;
      if (!this.socket.destroyed) this.socket.write(this.out, "latin1");
      this.out = "";
    }

    /** The cancelled try's answer is not waited for: if it is the next one due, the connection goes. */
    cancel(handler: TryHandler): void {
      const i = this.owed.indexOf(handler);
      if (i < 0) return;
      this.owed[i] = null;
      this.dropIfNextCancelled();
    }

    dropIfNextCancelled(): void {
      if (this.owed.length > 0 && this.owed[0] === null) this.fail("dropped", "an earlier try on its connection was cancelled");
    }

    /** `chunk` is a view of the read buffer: whatever outlives this call is copied. */
    onData(chunk: Buffer): void {
      if (this.owed.length === 0) {
        // Bytes nobody asked for: this connection's framing can't be trusted.
        this.socket.destroy();
        return;
      }
      const buf = this.buffered === null ? chunk : Buffer.concat([this.buffered, chunk]);
      this.buffered = null;
      let at = 0;
      for (;;) {
        while (this.head === null) {
          if (at === buf.length) return;
          const head = parseResponseHead(buf, at, this.owedToHead[0]);
          if (head === null) { this.buffered = Buffer.from(buf.subarray(at)); return; }
          if (head instanceof Error) return this.fail("broken", head.message);
          at += head.length;
          if (head.status === 101) return this.fail("broken", "upstream switched protocols");
          if (head.bodyLength > maxBody) return this.fail("broken", `answer body over ${maxBody} bytes`);
          if (head.status >= 200) {
            this.head = head;
            if (head.bodyLength === BODY_CHUNKED) this.chunked = new ChunkedBody();
          }
        }
        const end = this.bodyEnd(buf, at);
        if (end instanceof Error) return this.fail("broken", end.message);
        if (end < 0) return;
        at = end;
        this.answered(at < buf.length);
        // Answered: the rest of the read is the next owed answer, unless the connection is gone.
        if (at === buf.length || this.owed.length === 0) return;
      }
    }

    /** Where the current answer's body ends in `buf` (read from `at`), -1 while more is to come. */
    bodyEnd(buf: Buffer, at: number): number | Error {
      const { bodyLength } = this.head!;
      if (this.chunked !== null) return this.chunked.feed(buf, at, maxBody);
      const end = bodyLength === BODY_UNTIL_CLOSE ? buf.length : Math.min(buf.length, at + bodyLength - this.bodySize);
      if (end > at) {
        this.bodyParts.push(at === 0 && end === buf.length ? buf : buf.subarray(at, end));
        this.bodySize += end - at;
      }
      if (bodyLength !== BODY_UNTIL_CLOSE && this.bodySize === bodyLength) return end;
      if (bodyLength === BODY_UNTIL_CLOSE && this.bodySize > maxBody) return new Error(`answer body over ${maxBody} bytes`);
      // The answer goes on in a later read: keep this part past the read buffer's reuse.
      const last = this.bodyParts.length - 1;
      if (last >= 0 && this.bodyParts[last].buffer === readBuffer.buffer) this.bodyParts[last] = Buffer.from(this.bodyParts[last]);
      return -1;
    }

    /**
     * The answer due is complete; `more` says bytes follow it in this read. The connection stays
     * for the next owed answer, goes back to the pool when it owes none (and nothing followed),
     * or is closed.
     */
    answered(more: boolean): void {
      const head = this.head!;
      const handler = this.owed.shift()!;
      this.owedToHead.shift();
      const body = this.chunked !== null ? Buffer.concat(this.chunked.parts) : this.bodyParts.length === 1 ? this.bodyParts[0] : Buffer.concat(this.bodyParts);
      this.resetAnswer();
      if (!head.keepAlive) this.fail("dropped", "the upstream closed the connection after an earlier answer");
      else if (this.owed.length > 0) this.dropIfNextCancelled();
      else if (more || closed) this.socket.destroy();
      else release(this);
      handler?.onAnswer(head.status, head.fields, head.bodyLength >= 0 ? body.subarray(0, head.bodyLength) : body);
    }

    resetAnswer(): void {
      this.head = null;
      this.buffered = null;
      this.bodyParts = [];
      this.bodySize = 0;
      this.chunked = null;
    }

    onEnd(): void {
      if (this.head?.bodyLength === BODY_UNTIL_CLOSE) this.answered(false);
      else this.fail("broken", "upstream closed the connection before the answer was complete");
    }

    /**
     * Closes the connection and fails every try it owes: the one whose answer was due with
     * `kind`, those behind it as dropped (a refused connect refused them all).
     */
    fail(kind: TryFailure, detail: string): void {
      const { owed } = this;
      this.owed = [];
      this.owedToHead = [];
      this.out = "";
      if (this.origin.batch === this) this.origin.batch = null;
      this.resetAnswer();
      this.socket.destroy();
      const i = this.origin.idle.indexOf(this);
      if (i >= 0) this.origin.idle.splice(i, 1);
      owed.forEach((handler, n) => {
        if (n === 0 || kind === "refused") handler?.onFailure(kind, detail);
        else handler?.onFailure("dropped", `its connection closed for an earlier try (${detail})`);
      });
    }

    onClose(): void {
      this.origin.open--;
      this.fail(this.connected ? "broken" : "refused", "connection closed");
      next(this.origin);
    }
  }

  /** The oldest waiting try that was not cancelled, taken off the queue. */
  const nextWaiting = (o: Origin): Waiting | undefined => {
    while (o.waiting.length > 0 && o.waiting[0].handler === null) o.waiting.shift();
    return o.waiting.shift();
  };

  /** Starts a batch on `conn` with a try that waited for a connection. */
  const serveWaiting = (conn: Conn, w: Waiting): void => {
    conn.gather();
    conn.ask(w.method, w.target, w.headerLines, w.handler!);
  };

  /** A connection that owes nothing serves the next waiting try, or waits (newest first) for one. */
  const release = (conn: Conn): void => {
    const w = nextWaiting(conn.origin);
    if (w !== undefined) return serveWaiting(conn, w);
    conn.idleSince = performance.now();
    conn.origin.idle.push(conn);
  };

  /** Opens a connection for the next waiting try when one closed. */
  const next = (o: Origin): void => {
    if (closed || o.open >= maxConnections) return;
    const w = nextWaiting(o);
    if (w !== undefined) serveWaiting(new Conn(o), w);
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
      const conn = (o.batch !== null && o.batch.owed.length < batchSize ? o.batch : o.idle.pop()) ?? (o.open < maxConnections ? new Conn(o) : undefined);
      if (conn === undefined) {
        const w: Waiting = { method, target, headerLines, handler };
        o.waiting.push(w);
        return () => { w.handler = null; };
      }
      if (conn !== o.batch) conn.gather();
      conn.ask(method, target, headerLines, handler);
      return () => conn.cancel(handler);
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
