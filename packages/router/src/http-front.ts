import { STATUS_CODES, type IncomingMessage, type Server as HttpServer, type ServerResponse } from "node:http";
import { createServer, type Server, type Socket } from "node:net";
import { Duplex } from "node:stream";
import { OTHER, parseRequestHead, type RequestHead } from "./http-wire.ts";

/** Where one request's answer goes, whichever server read the request. */
export interface Reply {
  /** The client hung up: nothing can be written any more. */
  readonly gone: boolean;
  /**
   * Writes the whole answer, once: status, end-to-end header lines (`Name: value\r\n` each,
   * one byte per character; Date, Content-Length and the connection handling are added here),
   * body (left out for HEAD).
   */
  send(status: number, fields: string, body: string | Uint8Array): void;
}

export interface FrontServerOptions {
  /** Whether the fast path serves a GET/HEAD for this request target. */
  accept(target: string): boolean;
  onRequest(head: RequestHead, reply: Reply): void;
  /**
   * Node's HTTP server, never listening itself: a connection whose next request the fast path
   * does not take is handed to it whole, from that request on (documented as the server's
   * 'connection' event taking any Duplex stream).
   */
  slow: HttpServer;
  /** An idle kept-alive connection is closed after this long. */
  keepAliveMs: number;
}

export interface FrontServer {
  listen(port: number, host: string): Promise<number>;
  /**
   * Stops accepting; idle connections close at once, busy ones after their answers, and
   * whatever is left after `graceMs`.
   */
  close(graceMs: number): Promise<void>;
}

/** Connections given to Node's server, by the stream it reads them from. */
const handedOver = new WeakMap<Duplex, FrontConnection>();

/** Stop reading a client that does not read its answers past this much queued output. */
const MAX_QUEUED_OUTPUT = 256 * 1024;

/**
 * The router's listening socket. Plain `GET|HEAD` requests the fast path accepts are parsed
 * here (http-wire) and answered with one write each, in order even when pipelined; any other
 * request moves its connection to Node's HTTP server for good. That keeps the hand-written part
 * to the one request shape that carries the traffic, while admin calls, bodies, errors and
 * protocol corner cases get Node's full server.
 *
 *     const front = createFrontServer({ accept: (t) => t.startsWith("/recommend/"), onRequest, slow: http.createServer(handler), keepAliveMs: 30_000 });
 *     await front.listen(8082, "127.0.0.1");
 */
export function createFrontServer(opts: FrontServerOptions): FrontServer {
  const conns = new Set<FrontConnection>();
  let closing = false;
  // Node's server tracks idle connections only for sockets it accepted itself, so the ones handed
  // to it are followed here: their requests in flight, for a close that does not cut one off.
  opts.slow.on("request", (req: IncomingMessage, res: ServerResponse) => {
    const conn = handedOver.get(req.socket as Duplex);
    if (!conn) return;
    conn.slowInFlight++;
    res.once("close", () => conn.slowAnswered());
  });
  const server: Server = createServer({ noDelay: true }, (socket) => {
    const conn = new FrontConnection(socket, opts);
    conns.add(conn);
    socket.once("close", () => conns.delete(conn));
    if (closing) conn.shutdown();
  });
  // Idle connections are found by a sweep, not a per-socket timer: Node re-arms a socket's
  // timer on every read and write, a cost on each request.
  // A connection closes between keepAliveMs and keepAliveMs + sweepMs after its last bytes.
  const sweepMs = Math.max(10, Math.min(1000, Math.floor(opts.keepAliveMs / 4)));
  const sweep = setInterval(() => { for (const conn of conns) conn.tick(sweepMs); }, sweepMs);
  sweep.unref();

  return {
    listen: (port, host) => new Promise((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, host, () => {
        server.off("error", reject);
        resolve((server.address() as { port: number }).port);
      });
    }),
    async close(graceMs) {
      clearInterval(sweep);
      if (!server.listening) return;
      closing = true;
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const conn of conns) conn.shutdown();
      const force = setTimeout(() => { for (const conn of conns) conn.socket.destroy(); }, graceMs);
      await closed;
      clearTimeout(force);
    },
  };
}

class FrontConnection {
  /** Answers not yet written, oldest first (HTTP/1.1 answers go out in request order). */
  private readonly queue: FastReply[] = [];
  private buffered: Buffer | null = null;
  /** No more requests are read: the client asked to close, or the router is closing. */
  private ending = false;
  /** Bytes from the first request the fast path does not take, waiting for the queue to empty. */
  private handover: Buffer | null = null;
  private handedOver = false;
  /** Requests Node's server is answering on this connection, after a handover. */
  slowInFlight = 0;
  /** Milliseconds since the last bytes from the client, counted by the sweep. */
  private quietMs = 0;
  /** Milliseconds an unfinished request head has been arriving, counted by the sweep. */
  private partialMs = 0;
  private readonly onData = (chunk: Buffer) => {
    this.quietMs = 0;
    this.read(chunk);
  };

  constructor(readonly socket: Socket, private readonly opts: FrontServerOptions) {
    socket.on("data", this.onData);
    socket.on("drain", () => { if (!this.ending && this.handover === null) socket.resume(); });
    // A reset client: its in-flight answers see `gone`.
    socket.on("error", () => socket.destroy());
  }

  /**
   * Called by the sweep (Node's server times its own connections): closes a connection idle for
   * the keep-alive time, or one whose request head is still unfinished after that long (a
   * client trickling a head byte by byte must not hold a connection forever).
   */
  tick(elapsedMs: number): void {
    if (this.handedOver) return;
    this.quietMs += elapsedMs;
    this.partialMs = this.buffered === null ? 0 : this.partialMs + elapsedMs;
    const idle = this.quietMs > this.opts.keepAliveMs && this.queue.length === 0;
    if (idle || this.partialMs > this.opts.keepAliveMs) this.socket.destroy();
  }

  /** Whether `reply` is the last answer before this connection closes (the router is closing). */
  closesAfter(reply: FastReply): boolean {
    return this.ending && this.queue[this.queue.length - 1] === reply;
  }

  private read(chunk: Buffer): void {
    if (this.ending) return;
    const buf = this.buffered === null ? chunk : Buffer.concat([this.buffered, chunk]);
    this.buffered = null;
    let at = 0;
    while (at < buf.length) {
      const head = parseRequestHead(buf, at, this.opts.accept);
      if (head === null) {
        this.buffered = buf.subarray(at);
        return;
      }
      if (head === OTHER) return this.startHandover(buf.subarray(at));
      at += head.length;
      const reply = new FastReply(this, head);
      this.queue.push(reply);
      if (!head.keepAlive) this.ending = true;
      this.opts.onRequest(head, reply);
      if (this.ending) return;
    }
  }

  /** Writes the answers that are ready, in order; then hands over or ends if that is next. */
  flush(): void {
    const { socket } = this;
    while (this.queue.length > 0 && this.queue[0].out !== null) {
      const reply = this.queue.shift()!;
      if (!socket.destroyed) socket.write(reply.out!);
      reply.out = WRITTEN;
    }
    if (this.queue.length > 0) return;
    if (this.handover !== null) this.completeHandover();
    else if (this.ending) socket.end();
    else if (socket.writableLength > MAX_QUEUED_OUTPUT) socket.pause();
  }

  /** The next request is for Node's server: it gets the connection once our answers are out. */
  private startHandover(rest: Buffer): void {
    this.handover = rest;
    this.socket.pause();
    if (this.queue.length === 0) this.completeHandover();
  }

  private completeHandover(): void {
    const { socket } = this;
    const first = this.handover!;
    this.handover = null;
    this.handedOver = true;
    socket.off("data", this.onData);
    socket.removeAllListeners("drain");
    const duplex = bridge(socket, first);
    handedOver.set(duplex, this);
    this.opts.slow.emit("connection", duplex);
  }

  slowAnswered(): void {
    if (--this.slowInFlight === 0 && this.ending) this.socket.end();
  }

  /** The router is closing: finish what was asked, then close. */
  shutdown(): void {
    this.ending = true;
    const idle = this.handedOver ? this.slowInFlight === 0 : this.queue.length === 0 && this.handover === null;
    if (idle) this.socket.end();
  }
}

/** What a written answer's `out` is set to. */
const WRITTEN = Buffer.alloc(0);

class FastReply implements Reply {
  /** The rendered answer, head and body in one buffer; {@link WRITTEN} once written. */
  out: Buffer | null = null;

  constructor(private readonly conn: FrontConnection, private readonly head: RequestHead) {}

  get gone(): boolean {
    return this.conn.socket.destroyed;
  }

  send(status: number, fields: string, body: string | Uint8Array): void {
    if (this.out !== null) return;
    const size = typeof body === "string" ? Buffer.byteLength(body) : body.length;
    const head = `${statusLine(status)}${fields}${dateField()}content-length: ${size}\r\n${this.connectionEnd()}`;
    const sent = this.head.method === "HEAD" ? 0 : size;
    // The head is one byte per character (see Reply.send), so its length is its size.
    const out = Buffer.allocUnsafe(head.length + sent);
    out.write(head, 0, "latin1");
    if (sent > 0) {
      if (typeof body === "string") out.write(body, head.length, "utf8");
      else out.set(body, head.length);
    }
    this.out = out;
    this.conn.flush();
  }

  /** The connection field, if any, and the blank line. Only the last answer says close: a client stops reading at the first one that does. */
  private connectionEnd(): string {
    if (!this.head.keepAlive || this.conn.closesAfter(this)) return "connection: close\r\n\r\n";
    return this.head.http10 ? "connection: keep-alive\r\n\r\n" : "\r\n";
  }
}

const statusLines: string[] = [];
/** `HTTP/1.1 <status> <reason>\r\n`, built once per status. */
function statusLine(status: number): string {
  return (statusLines[status] ??= `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? "Unknown"}\r\n`);
}

let dateSecond = -1;
let dateLine = "";
/** The Date header line, formatted once a second. */
function dateField(): string {
  const now = Date.now();
  const second = Math.floor(now / 1000);
  if (second !== dateSecond) {
    dateSecond = second;
    dateLine = `date: ${new Date(now).toUTCString()}\r\n`;
  }
  return dateLine;
}

/**
 * A Duplex over `socket` that first replays `first` (the bytes already read), for Node's HTTP
 * server to own the connection from there on.
 */
function bridge(socket: Socket, first: Buffer): Duplex {
  const duplex = new Duplex({
    read() { socket.resume(); },
    write(chunk: Buffer, encoding, callback) { socket.write(chunk, encoding, callback); },
    final(callback) { socket.end(callback); },
    destroy(err, callback) { socket.destroy(); callback(err); },
  });
  if (first.length > 0) duplex.push(first);
  socket.on("data", (chunk: Buffer) => { if (!duplex.push(chunk)) socket.pause(); });
  socket.on("end", () => duplex.push(null));
  socket.on("close", () => duplex.destroy());
  // Node's server keeps connections alive with the socket's idle timer.
  socket.on("timeout", () => duplex.emit("timeout"));
  Object.assign(duplex, {
    setTimeout(ms: number) { socket.setTimeout(ms); return duplex; },
    remoteAddress: socket.remoteAddress,
    remotePort: socket.remotePort,
  });
  socket.resume();
  return duplex;
}
