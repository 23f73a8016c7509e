import { once } from "node:events";
import { createServer as createHttpServer, type IncomingMessage, type RequestListener, type Server as HttpServer, type ServerResponse } from "node:http";
import { connect, createServer as createNetServer, type Server as NetServer, type Socket } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { linesToPairs } from "../src/http-fields.ts";
import { createFrontServer, type FrontServer, type Reply } from "../src/http-front.ts";
import type { RequestHead } from "../src/http-wire.ts";
import { createUpstreamPool, type TryFailure, type TryHandler, type UpstreamPool, type UpstreamPoolOptions } from "../src/upstream-pool.ts";
import { sleep, until } from "./helpers.ts";

const HOST = "127.0.0.1";
/** How long any one wait may take before the test fails (generous: CI machines are slow). */
const WAIT_MS = 5000;

const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

/** `promise`, or a failure naming `what` after {@link WAIT_MS}. */
async function within<T>(promise: Promise<T>, what: string, ms = WAIT_MS): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), ms); });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

async function listen(server: NetServer | HttpServer): Promise<number> {
  server.listen(0, HOST);
  await once(server, "listening");
  return (server.address() as { port: number }).port;
}

/** Writes `pieces` one after another with a pause between (each its own read at the other end). */
async function writeSlowly(socket: Socket, pieces: string[], pauseMs = 15): Promise<void> {
  for (const piece of pieces) {
    if (socket.destroyed) return;
    socket.write(piece, "utf8");
    await sleep(pauseMs);
  }
}

// ---------------------------------------------------------------------------------------------
// A raw client, and a reader for the answers it gets.

interface Answer { status: number; headers: Record<string, string>; body: string }

class RawClient {
  private readonly chunks: Buffer[] = [];
  closed = false;

  constructor(readonly socket: Socket) {
    socket.on("data", (chunk: Buffer) => this.chunks.push(chunk));
    socket.on("close", () => { this.closed = true; });
    socket.on("error", () => {});
  }

  get received(): Buffer {
    return Buffer.concat(this.chunks);
  }

  write(text: string): void {
    this.socket.write(text, "utf8");
  }

  /** Waits for `count` whole answers; `bodiless[i]` marks answers to HEAD requests. */
  async answers(count: number, bodiless: boolean[] = []): Promise<Answer[]> {
    await within(until(() => readAnswers(this.received, bodiless).length >= count, WAIT_MS + 1000), `${count} answers`);
    return readAnswers(this.received, bodiless);
  }

  async closedByServer(): Promise<void> {
    await within(until(() => this.closed, WAIT_MS + 1000), "the server to close the connection");
  }
}

async function connectClient(port: number): Promise<RawClient> {
  const socket = connect({ port, host: HOST });
  cleanup.push(() => socket.destroy());
  await within(once(socket, "connect"), "connect");
  return new RawClient(socket);
}

/**
 * Splits what a client received into whole answers (Content-Length framing; without one the
 * body runs to the end of the data, as for Node's 400).
 */
function readAnswers(data: Buffer, bodiless: boolean[] = []): Answer[] {
  const answers: Answer[] = [];
  let at = 0;
  for (;;) {
    const end = data.indexOf("\r\n\r\n", at, "latin1");
    if (end < 0) return answers;
    const [statusLine, ...lines] = data.toString("latin1", at, end).split("\r\n");
    const headers: Record<string, string> = {};
    for (const line of lines) {
      const colon = line.indexOf(":");
      headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
    }
    const length = bodiless[answers.length] ? 0 : headers["content-length"] === undefined ? data.length - end - 4 : Number(headers["content-length"]);
    if (end + 4 + length > data.length) return answers;
    answers.push({ status: Number(statusLine.split(" ")[1]), headers, body: data.toString("utf8", end + 4, end + 4 + length) });
    at = end + 4 + length;
  }
}

const get = (target: string, ...headers: string[]) => `GET ${target} HTTP/1.1\r\nHost: router\r\n${headers.map((h) => `${h}\r\n`).join("")}\r\n`;

// ---------------------------------------------------------------------------------------------
// The front server, with a slow server that says what it saw.

interface SlowRequest { method: string; url: string; body: string }
/** `slowHeld`: the slow server's answers to `/admin/hold...`, for the test to let go. */
interface Front { front: FrontServer; port: number; slowSeen: SlowRequest[]; slowHeld: (() => void)[] }

/** Answers a fast request with its method and target. */
const echo = (head: RequestHead, reply: Reply) => reply.send(200, "x-fast: 1\r\n", `fast ${head.method} ${head.target}`);

async function startFront(onRequest: (head: RequestHead, reply: Reply) => void = echo, { keepAliveMs = 30_000, slowKeepAliveMs = 5000 } = {}): Promise<Front> {
  const slowSeen: SlowRequest[] = [];
  const slowHeld: (() => void)[] = [];
  const slow = createHttpServer({ keepAliveTimeout: slowKeepAliveMs }, (req: IncomingMessage, res: ServerResponse) => {
    let body = "";
    req.setEncoding("utf8");
    req.on("data", (s: string) => { body += s; });
    req.on("end", () => {
      slowSeen.push({ method: req.method!, url: req.url!, body });
      const text = `slow ${req.method} ${req.url} ${body}`;
      const answer = () => {
        res.writeHead(200, { "content-length": Buffer.byteLength(text), "x-slow": "1" });
        res.end(text);
      };
      if (req.url!.startsWith("/admin/hold")) slowHeld.push(answer);
      else answer();
    });
  });
  const front = createFrontServer({ accept: (t) => t.startsWith("/recommend/"), onRequest, slow, keepAliveMs });
  const port = await front.listen(0, HOST);
  cleanup.push(() => front.close(0));
  return { front, port, slowSeen, slowHeld };
}

/**
 * An onRequest that keeps the replies (of the targets `hold` picks) for the test to answer;
 * `held` fills as requests come. Others are echoed.
 */
function holding(hold = (_target: string) => true): { onRequest: (head: RequestHead, reply: Reply) => void; held: { head: RequestHead; reply: Reply }[] } {
  const held: { head: RequestHead; reply: Reply }[] = [];
  return { held, onRequest: (head, reply) => { if (hold(head.target)) held.push({ head, reply }); else echo(head, reply); } };
}

const answerOf = (h: { head: RequestHead; reply: Reply }) => h.reply.send(200, "", `fast ${h.head.method} ${h.head.target}`);

describe("front server", () => {
  it("answers pipelined requests in request order even when they are answered out of order", async () => {
    const { held, onRequest } = holding();
    const { port } = await startFront(onRequest);
    const client = await connectClient(port);
    client.write(get("/recommend/a") + get("/recommend/b") + get("/recommend/c"));
    await until(() => held.length === 3);
    // The last first, each a little later: nothing may go out before the first is answered.
    answerOf(held[2]);
    await sleep(20);
    answerOf(held[1]);
    await sleep(50);
    expect(client.received.length).toBe(0);
    setTimeout(() => answerOf(held[0]), 20);
    const answers = await client.answers(3);
    expect(answers.map((a) => [a.status, a.body])).toEqual([[200, "fast GET /recommend/a"], [200, "fast GET /recommend/b"], [200, "fast GET /recommend/c"]]);
    expect(answers.every((a) => a.headers.date !== undefined && a.headers.connection === undefined)).toBe(true);
    // Still open for more.
    client.write(get("/recommend/d"));
    await until(() => held.length === 4);
    answerOf(held[3]);
    expect((await client.answers(4))[3].body).toBe("fast GET /recommend/d");
    expect(client.closed).toBe(false);
  });

  it("passes the request head to onRequest", async () => {
    const { held, onRequest } = holding();
    const { port } = await startFront(onRequest);
    const client = await connectClient(port);
    client.write(get("/recommend/42?k=10", "X-Request-Id: r-1"));
    await until(() => held.length === 1);
    expect(held[0].head).toMatchObject({ method: "GET", target: "/recommend/42?k=10", keepAlive: true, fields: "X-Request-Id: r-1\r\n" });
  });

  it("answers `Connection: close` with `connection: close` and then closes the connection", async () => {
    const { port } = await startFront();
    const client = await connectClient(port);
    client.write(get("/recommend/1", "Connection: close"));
    const [answer] = await client.answers(1);
    expect(answer).toMatchObject({ status: 200, body: "fast GET /recommend/1" });
    expect(answer.headers.connection).toBe("close");
    await client.closedByServer();
  });

  it("reads nothing after a `Connection: close` request", async () => {
    const { port, slowSeen } = await startFront();
    const client = await connectClient(port);
    client.write(get("/recommend/1", "Connection: close") + get("/recommend/2") + "POST /recommend/3 HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n");
    await client.closedByServer();
    expect(readAnswers(client.received).map((a) => a.body)).toEqual(["fast GET /recommend/1"]);
    expect(slowSeen).toEqual([]);
  });

  it("marks only the last answer `connection: close` when a pipelined `Connection: close` request follows others", async () => {
    const { held, onRequest } = holding();
    const { port } = await startFront(onRequest);
    const client = await connectClient(port);
    client.write(get("/recommend/1") + get("/recommend/2", "Connection: close"));
    await until(() => held.length === 2);
    answerOf(held[0]);
    answerOf(held[1]);
    const answers = await client.answers(2);
    expect(answers.map((a) => a.body)).toEqual(["fast GET /recommend/1", "fast GET /recommend/2"]);
    expect(answers[1].headers.connection).toBe("close");
    // RFC 9112 9.6: after an answer carrying `close` the client stops reading, and the server must close.
    expect(answers[0].headers.connection, "the first answer says `connection: close` though a second answer follows on the connection").toBeUndefined();
  });

  it("HTTP/1.0: echoes `connection: keep-alive` and keeps the connection; closes it without", async () => {
    const { port } = await startFront();
    const client = await connectClient(port);
    client.write("GET /recommend/1 HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    const [first] = await client.answers(1);
    expect(first.headers.connection).toBe("keep-alive");
    client.write("GET /recommend/2 HTTP/1.0\r\n\r\n");
    const second = (await client.answers(2))[1];
    expect(second).toMatchObject({ body: "fast GET /recommend/2" });
    expect(second.headers.connection).toBe("close");
    await client.closedByServer();
  });

  it("answers HEAD with the body's content-length but no body", async () => {
    const { port } = await startFront();
    const client = await connectClient(port);
    client.write(`HEAD /recommend/7 HTTP/1.1\r\nHost: h\r\n\r\n${get("/recommend/8")}`);
    const answers = await client.answers(2, [true, false]);
    expect(answers[0].headers["content-length"]).toBe(String("fast HEAD /recommend/7".length));
    expect(answers[0].body).toBe("");
    // The GET's answer starts right after the HEAD's head: no body bytes in between.
    expect(answers[1]).toMatchObject({ status: 200, body: "fast GET /recommend/8" });
  });

  it("sends a non-ASCII body as UTF-8 with its length in bytes", async () => {
    const text = "recommandés: « 東京 » 😀";
    const { port } = await startFront((head, reply) => reply.send(200, "content-type: text/plain; charset=utf-8\r\n", head.target.endsWith("u") ? text : "ascii"));
    const client = await connectClient(port);
    client.write(get("/recommend/u") + get("/recommend/a"));
    const answers = await client.answers(2);
    expect(answers[0].headers["content-length"]).toBe(String(Buffer.byteLength(text)));
    expect(answers.map((a) => a.body)).toEqual([text, "ascii"]);
  });

  it("hands a connection to the slow server at its first other request, after the fast answers", async () => {
    const { held, onRequest } = holding();
    const { port, slowSeen } = await startFront(onRequest);
    const client = await connectClient(port);
    const post = "POST /admin/weights HTTP/1.1\r\nHost: h\r\nContent-Type: application/json\r\nContent-Length: 13\r\n\r\n{\"canary\":20}";
    client.write(get("/recommend/1") + get("/recommend/2") + post);
    await until(() => held.length === 2);
    await sleep(50);
    // The slow server waits for the fast answers: its answer must come after them.
    expect(slowSeen).toEqual([]);
    held.forEach(answerOf);
    const answers = await client.answers(3);
    expect(answers.map((a) => a.body)).toEqual(["fast GET /recommend/1", "fast GET /recommend/2", "slow POST /admin/weights {\"canary\":20}"]);
    expect(answers[2].headers["x-slow"]).toBe("1");
    expect(slowSeen).toEqual([{ method: "POST", url: "/admin/weights", body: "{\"canary\":20}" }]);
    // The connection stays with the slow server, fast-path targets included.
    client.write(get("/recommend/3"));
    expect((await client.answers(4))[3]).toMatchObject({ status: 200, body: "slow GET /recommend/3 " });
    expect(held).toHaveLength(2);
  });

  it("hands over a request whose head and body arrive over several writes", async () => {
    const { port, slowSeen } = await startFront();
    const client = await connectClient(port);
    client.write(get("/recommend/1"));
    await client.answers(1);
    await writeSlowly(client.socket, ["POST /adm", "in/x HTTP/1.1\r\nHost: h\r\nContent-Le", "ngth: 10\r\n\r\nabc", "defghij"]);
    const answers = await client.answers(2);
    expect(answers[1].body).toBe("slow POST /admin/x abcdefghij");
    expect(slowSeen).toEqual([{ method: "POST", url: "/admin/x", body: "abcdefghij" }]);
  });

  it("reads request heads that arrive over several writes, pipelined or not", async () => {
    const { port } = await startFront();
    const client = await connectClient(port);
    await writeSlowly(client.socket, ["GE", "T /recommend/1 HTTP/1.1\r\nHo", "st: h\r\n\r", "\n"]);
    expect((await client.answers(1))[0].body).toBe("fast GET /recommend/1");
    await writeSlowly(client.socket, [`${get("/recommend/2")}GET /recommend/3 HTTP/1.1\r\n`, "Host: h\r\n\r\n"]);
    expect((await client.answers(3)).map((a) => a.body)).toEqual(["fast GET /recommend/1", "fast GET /recommend/2", "fast GET /recommend/3"]);
  });

  it("adds its own Date and Content-Length to the given header lines", async () => {
    const { port } = await startFront((head, reply) => reply.send(404, head.target.endsWith("d") ? "x-a: 1\r\nx-b: 2\r\n" : "", "nope"));
    const client = await connectClient(port);
    client.write(get("/recommend/d") + get("/recommend/x"));
    const answers = await client.answers(2);
    expect(answers[0]).toMatchObject({ status: 404, headers: { "x-a": "1", "x-b": "2", "content-length": "4" }, body: "nope" });
    expect(answers[1].headers).toMatchObject({ "content-length": "4" });
    expect(Date.parse(answers[1].headers.date)).not.toBeNaN();
    expect(client.received.toString("latin1").match(/\r\ndate:/gi)).toHaveLength(2);
    expect(client.received.toString("latin1").startsWith("HTTP/1.1 404 Not Found\r\n")).toBe(true);
  });

  it("reports `gone` once the client closes its side before the answer (as Node's server, no answer after a FIN)", async () => {
    const { held, onRequest } = holding();
    const { port } = await startFront(onRequest);
    const client = await connectClient(port);
    client.socket.end(get("/recommend/1"));
    await until(() => held.length === 1);
    await within(until(() => held[0].reply.gone), "reply.gone");
    await client.closedByServer();
    answerOf(held[0]); // must not throw
  });

  it("leaves the slow server's keep-alive timeout to close a handed-over connection", async () => {
    const { port } = await startFront(echo, { slowKeepAliveMs: 200 });
    const client = await connectClient(port);
    client.write("OPTIONS /recommend/1 HTTP/1.1\r\nHost: h\r\n\r\n");
    expect((await client.answers(1))[0].body).toBe("slow OPTIONS /recommend/1 ");
    await client.closedByServer();
  });

  it("keeps a connection whose answer takes longer than keepAliveMs", async () => {
    const { port } = await startFront((head, reply) => { setTimeout(() => echo(head, reply), 600); }, { keepAliveMs: 100 });
    const client = await connectClient(port);
    client.write(get("/recommend/1"));
    expect((await client.answers(1))[0]).toMatchObject({ status: 200, body: "fast GET /recommend/1" });
  });

  it("delivers many large pipelined answers intact to a client that reads late", async () => {
    const size = 100 * 1024;
    const { port } = await startFront((head, reply) => reply.send(200, "", head.target.slice(-1).repeat(size)));
    const client = await connectClient(port);
    client.socket.pause();
    const letters = "abcdefghijklmnopqrst".split("");
    client.write(letters.map((l) => get(`/recommend/${l}`)).join(""));
    await sleep(200);
    client.socket.resume();
    const answers = await client.answers(letters.length);
    expect(answers.map((a) => a.body)).toEqual(letters.map((l) => l.repeat(size)));
  });

  it("survives a client that resets while a handover waits for fast answers", async () => {
    const { held, onRequest } = holding((t) => t === "/recommend/1");
    const { port } = await startFront(onRequest);
    const client = await connectClient(port);
    client.write(`${get("/recommend/1")}POST /admin/x HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n`);
    await until(() => held.length === 1);
    client.socket.resetAndDestroy();
    await within(until(() => held[0].reply.gone), "reply.gone");
    answerOf(held[0]);
    await sleep(100);
    // The front server still serves others.
    const other = await connectClient(port);
    other.write(get("/recommend/2"));
    expect((await other.answers(1))[0].body).toBe("fast GET /recommend/2");
  });

  it("lets Node's server answer a malformed request with 400", async () => {
    const { held, onRequest } = holding();
    const { port, slowSeen } = await startFront(onRequest);
    const client = await connectClient(port);
    client.write("GET /recommend/1 HTTP/1.1\r\nHost: h\r\nBad Header Line\r\n\r\n");
    const [answer] = await client.answers(1);
    expect(answer.status).toBe(400);
    await client.closedByServer();
    expect(held).toEqual([]);
    expect(slowSeen).toEqual([]);
  });

  /** A front server holding one unanswered GET from a connected client. */
  async function frontWithOneHeld() {
    const { held, onRequest } = holding();
    const { front, port } = await startFront(onRequest);
    const client = await connectClient(port);
    client.write(get("/recommend/1"));
    await until(() => held.length === 1);
    return { held, front, client };
  }

  it("close(graceMs) waits for an in-flight answer, which goes out with `connection: close`", async () => {
    const { held, front, client } = await frontWithOneHeld();
    let closed = false;
    const closing = front.close(20_000).then(() => { closed = true; });
    await sleep(100);
    expect(closed).toBe(false);
    expect(client.closed).toBe(false);
    answerOf(held[0]);
    const [answer] = await client.answers(1);
    expect(answer).toMatchObject({ status: 200, body: "fast GET /recommend/1" });
    expect(answer.headers.connection).toBe("close");
    await within(closing, "close() after the last answer");
    await client.closedByServer();
  });

  it("close(graceMs) closes idle keep-alive connections at once and stops accepting", async () => {
    const graceMs = 20_000;
    const { front, port } = await startFront();
    const clients = [await connectClient(port), await connectClient(port)];
    clients[0].write(get("/recommend/1"));
    await clients[0].answers(1);
    const t0 = performance.now();
    await within(front.close(graceMs), "close()", graceMs);
    expect(performance.now() - t0).toBeLessThan(graceMs / 2);
    await Promise.all(clients.map((c) => c.closedByServer()));
    const refused = connect({ port, host: HOST });
    refused.on("connect", () => refused.destroy());
    const [err] = await within(once(refused, "error"), "a refused connect") as [NodeJS.ErrnoException];
    expect(err.code).toBe("ECONNREFUSED");
  });

  it("close(graceMs) waits for the slow server's answer on a handed-over connection, then closes it", async () => {
    const { front, port, slowHeld } = await startFront();
    const client = await connectClient(port);
    client.write("GET /admin/hold HTTP/1.1\r\nHost: h\r\n\r\n");
    await until(() => slowHeld.length === 1);
    let closed = false;
    const closing = front.close(20_000).then(() => { closed = true; });
    await sleep(100);
    expect(closed).toBe(false);
    expect(client.closed).toBe(false);
    slowHeld[0]();
    expect((await client.answers(1))[0].body).toBe("slow GET /admin/hold ");
    await client.closedByServer();
    await within(closing, "close() after the slow answer");
  });

  it("close(graceMs) closes an idle connection handed to the slow server at once", async () => {
    const graceMs = 20_000;
    const { front, port } = await startFront();
    const client = await connectClient(port);
    client.write("DELETE /admin/x HTTP/1.1\r\nHost: h\r\n\r\n");
    expect((await client.answers(1))[0].body).toBe("slow DELETE /admin/x ");
    const t0 = performance.now();
    await within(front.close(graceMs), "close()", graceMs);
    expect(performance.now() - t0).toBeLessThan(graceMs / 2);
    await client.closedByServer();
  });

  it("close(graceMs) cuts connections still busy after graceMs", async () => {
    const { held, front, client } = await frontWithOneHeld();
    await within(front.close(200), "close(200) with an unanswered request");
    await client.closedByServer();
    expect(held[0].reply.gone).toBe(true);
    held[0].reply.send(200, "", "too late"); // must not throw
  });

  it("closes a connection idle for keepAliveMs", async () => {
    const { port } = await startFront(echo, { keepAliveMs: 150 });
    const client = await connectClient(port);
    client.write(get("/recommend/1"));
    expect((await client.answers(1))[0].status).toBe(200);
    await client.closedByServer();
  });

  it("keeps a connection that is never quiet for keepAliveMs", async () => {
    const { port } = await startFront(echo, { keepAliveMs: 300 });
    const client = await connectClient(port);
    for (let i = 1; i <= 10; i++) {
      client.write(get(`/recommend/${i}`));
      await sleep(100);
    }
    const answers = await client.answers(10);
    expect(answers.map((a) => a.status)).toEqual(Array(10).fill(200));
    expect(client.closed).toBe(false);
  });

  it("closes a connection whose request head is still trickling in after keepAliveMs", async () => {
    const { port } = await startFront(echo, { keepAliveMs: 200 });
    const client = await connectClient(port);
    const head = get("/recommend/1");
    // One byte every 50 ms: never quiet for keepAliveMs, and the head would take seconds.
    void writeSlowly(client.socket, head.split(""), 50);
    await client.closedByServer();
    expect(client.received.length).toBe(0);
  });

  it("reports `gone` once the client resets the connection", async () => {
    const { held, onRequest } = holding();
    const { port } = await startFront(onRequest);
    const client = await connectClient(port);
    client.write(get("/recommend/1"));
    await until(() => held.length === 1);
    expect(held[0].reply.gone).toBe(false);
    client.socket.resetAndDestroy();
    await within(until(() => held[0].reply.gone), "reply.gone");
    held[0].reply.send(200, "", "nobody listens"); // must not throw
  });
});

// ---------------------------------------------------------------------------------------------
// The upstream pool against real servers.

/** What a try heard back, the body copied out at once. */
type Outcome = { answer: Answer } | { failure: TryFailure; detail: string };

class Try implements TryHandler {
  calls = 0;
  outcome: Outcome | null = null;
  private settle!: (o: Outcome) => void;
  readonly done = new Promise<Outcome>((resolve) => { this.settle = resolve; });

  onAnswer(status: number, fields: string, body: Buffer): void {
    const named: Record<string, string> = {};
    const pairs = linesToPairs(fields);
    for (let i = 0; i < pairs.length; i += 2) named[pairs[i].toLowerCase()] = pairs[i + 1];
    this.record({ answer: { status, headers: named, body: body.toString("utf8") } });
  }

  onFailure(failure: TryFailure, detail: string): void {
    this.record({ failure, detail });
  }

  private record(o: Outcome): void {
    this.calls++;
    this.outcome ??= o;
    this.settle(o);
  }
}

function startPool(opts: UpstreamPoolOptions = {}): UpstreamPool {
  const pool = createUpstreamPool(opts);
  cleanup.push(() => pool.close());
  return pool;
}

/** Sends a GET (or `method`) and returns the try and its cancel function. */
function send(pool: UpstreamPool, url: string, target = "/recommend/1", method = "GET", headerLines = ""): { t: Try; cancel: () => void } {
  const t = new Try();
  return { t, cancel: pool.send(url, method, target, headerLines, t) };
}

async function outcomeOf(t: Try): Promise<Outcome> {
  return within(t.done, "the try's outcome");
}

/** Sends and waits for an answer (failing the test on a failure). */
async function answerFrom(pool: UpstreamPool, url: string, target = "/recommend/1", method = "GET", headerLines = ""): Promise<Answer> {
  const outcome = await outcomeOf(send(pool, url, target, method, headerLines).t);
  if (!("answer" in outcome)) throw new Error(`expected an answer, got ${outcome.failure}: ${outcome.detail}`);
  return outcome.answer;
}

/** Counts the connections a test upstream saw open and close. */
interface Upstream { url: string; opened: number; closed: number; requests: string[] }

function track(server: NetServer | HttpServer, up: Upstream): void {
  const sockets = new Set<Socket>();
  server.on("connection", (s: Socket) => {
    up.opened++;
    sockets.add(s);
    s.on("close", () => { up.closed++; sockets.delete(s); });
  });
  cleanup.push(async () => {
    for (const s of sockets) s.destroy();
    await new Promise((r) => server.close(r));
  });
}

/** A Node HTTP upstream; `requests` lists `METHOD target` as they arrive. */
async function httpUpstream(handler: RequestListener, keepAliveTimeout = 5000): Promise<Upstream & { server: HttpServer }> {
  const server = createHttpServer({ keepAliveTimeout }, (req, res) => {
    up.requests.push(`${req.method} ${req.url}`);
    handler(req, res);
  });
  const up = { url: "", opened: 0, closed: 0, requests: [] as string[], server };
  track(server, up);
  up.url = `http://${HOST}:${await listen(server)}`;
  return up;
}

/** A raw upstream: `respond` gets each request head (text) and writes whatever it likes. */
async function rawUpstream(respond: (socket: Socket, request: string) => void): Promise<Upstream> {
  const up: Upstream = { url: "", opened: 0, closed: 0, requests: [] };
  const server = createNetServer((socket) => {
    let pending = "";
    socket.on("error", () => {});
    socket.on("data", (chunk: Buffer) => {
      pending += chunk.toString("latin1");
      for (let end = pending.indexOf("\r\n\r\n"); end >= 0; end = pending.indexOf("\r\n\r\n")) {
        const request = pending.slice(0, end + 4);
        pending = pending.slice(end + 4);
        up.requests.push(request.slice(0, request.indexOf(" HTTP/")));
        respond(socket, request);
      }
    });
  });
  track(server, up);
  up.url = `http://${HOST}:${await listen(server)}`;
  return up;
}

/** A loopback port nothing listens on. */
async function deadUrl(): Promise<string> {
  const server = createNetServer();
  const port = await listen(server);
  await new Promise((r) => server.close(r));
  return `http://${HOST}:${port}`;
}

const okAnswer = (body: string, ...headers: string[]) => `HTTP/1.1 200 OK\r\n${headers.map((h) => `${h}\r\n`).join("")}Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;

describe("upstream pool", () => {
  it("gets answers from a Node server over one reused connection", async () => {
    const seen: Record<string, string | string[] | undefined>[] = [];
    const up = await httpUpstream((req, res) => {
      seen.push(req.headers);
      res.writeHead(200, { "content-type": "text/plain", "x-commit": "abc123" });
      res.end(`ids for ${req.url}`);
    });
    const pool = startPool();
    for (let i = 0; i < 20; i++) {
      const answer = await answerFrom(pool, up.url, `/recommend/${i}`, "GET", "x-request-id: r-1\r\n");
      expect(answer).toMatchObject({ status: 200, body: `ids for /recommend/${i}` });
      expect(answer.headers).toMatchObject({ "content-type": "text/plain", "x-commit": "abc123" });
    }
    expect(up.requests).toHaveLength(20);
    expect(up.opened).toBe(1);
    expect(seen[0]).toMatchObject({ host: up.url.slice("http://".length), "x-request-id": "r-1" });
  });

  it("answers HEAD without a body and keeps the connection", async () => {
    const up = await httpUpstream((req, res) => {
      res.writeHead(200, { "content-length": 11 });
      res.end(req.method === "HEAD" ? undefined : "hello world");
    });
    const pool = startPool();
    expect(await answerFrom(pool, up.url, "/recommend/1", "HEAD")).toMatchObject({ status: 200, body: "" });
    expect(await answerFrom(pool, up.url)).toMatchObject({ status: 200, body: "hello world" });
    expect(up.requests).toEqual(["HEAD /recommend/1", "GET /recommend/1"]);
    expect(up.opened).toBe(1);
  });

  it("passes non-200 answers on as answers, 204 without a body, on the same connection", async () => {
    const up = await httpUpstream((req, res) => {
      res.writeHead(req.url!.endsWith("empty") ? 204 : 503);
      res.end(req.url!.endsWith("empty") ? undefined : "busy");
    });
    const pool = startPool();
    expect(await answerFrom(pool, up.url)).toMatchObject({ status: 503, body: "busy" });
    expect(await answerFrom(pool, up.url, "/recommend/empty")).toMatchObject({ status: 204, body: "" });
    expect(await answerFrom(pool, up.url)).toMatchObject({ status: 503, body: "busy" });
    expect(up.opened).toBe(1);
  });

  /** `count` numbered 8-byte records tagged `tag`: no two stretches of it look alike. */
  const numbered = (count: number, tag: string) => Array.from({ length: count }, (_, i) => `${String(i).padStart(7, "0")}${tag}`).join("");

  it("reads bodies larger than one read, from two connections at once, intact", async () => {
    const bodies: Record<string, string> = { "/recommend/a": numbered(40_000, "a"), "/recommend/b": numbered(40_000, "b") };
    const up = await httpUpstream((req, res) => {
      const body = bodies[req.url!];
      res.writeHead(200, { "content-length": body.length });
      // In several writes so the two answers' reads interleave at the pool.
      for (let i = 0; i < 8; i++) res.write(body.slice((i * body.length) / 8, ((i + 1) * body.length) / 8));
      res.end();
    });
    const pool = startPool();
    const [a, b] = await Promise.all([answerFrom(pool, up.url, "/recommend/a"), answerFrom(pool, up.url, "/recommend/b")]);
    expect(a.body === bodies["/recommend/a"], "body a intact").toBe(true);
    expect(b.body === bodies["/recommend/b"], "body b intact").toBe(true);
  });

  it("decodes a chunked answer sent in pieces and reuses the connection", async () => {
    const up = await rawUpstream((socket, request) => {
      const id = request.split(" ")[1];
      void writeSlowly(socket, ["HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n8\r\nids fo", "r \r\n", `${id.length.toString(16)};ext=1\r\n${id}\r\n0\r\n`, "X-Trailer: t\r\n\r\n"]);
    });
    const pool = startPool();
    expect(await answerFrom(pool, up.url, "/recommend/1")).toMatchObject({ status: 200, body: "ids for /recommend/1" });
    expect(await answerFrom(pool, up.url, "/recommend/2")).toMatchObject({ status: 200, body: "ids for /recommend/2" });
    expect(up.opened).toBe(1);
  });

  it("decodes a large chunked answer from a Node server", async () => {
    const chunk = numbered(6_250, "c");
    const up = await httpUpstream((_, res) => {
      res.writeHead(200, { "content-type": "text/plain" });
      for (let i = 0; i < 5; i++) res.write(chunk);
      res.end();
    });
    const answer = await answerFrom(startPool(), up.url);
    expect(answer.headers, "framing is the pool's, not passed on").toEqual({ "content-type": "text/plain" });
    expect(answer.body === chunk.repeat(5), "body intact").toBe(true);
  });

  it("reads a close-delimited answer to its end and opens a new connection after it", async () => {
    const up = await rawUpstream((socket) => { void writeSlowly(socket, ["HTTP/1.1 200 OK\r\n\r\nall ", "of it"]).then(() => socket.end()); });
    const pool = startPool();
    expect(await answerFrom(pool, up.url)).toMatchObject({ status: 200, body: "all of it" });
    expect(await answerFrom(pool, up.url)).toMatchObject({ status: 200, body: "all of it" });
    expect(up.opened).toBe(2);
  });

  it("skips 1xx interim answers, in the same read as the final answer or not", async () => {
    const up = await rawUpstream((socket, request) => {
      const interim = "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </x>; rel=preload\r\n\r\n";
      if (request.includes("/together")) socket.write(interim + okAnswer("final"));
      else void writeSlowly(socket, [interim, okAnswer("final")]);
    });
    const pool = startPool();
    expect(await answerFrom(pool, up.url, "/recommend/together")).toMatchObject({ status: 200, body: "final" });
    expect(await answerFrom(pool, up.url, "/recommend/apart")).toMatchObject({ status: 200, body: "final" });
    expect(up.opened).toBe(1);
  });

  it("reads an answer head split over several writes", async () => {
    const up = await rawUpstream((socket) => {
      void writeSlowly(socket, ["HTT", "P/1.1 200 OK\r\nX-A: 1\r", "\nContent-Len", "gth: 5\r\n\r", "\nhel", "lo"]);
    });
    const pool = startPool();
    expect(await answerFrom(pool, up.url)).toMatchObject({ status: 200, headers: { "x-a": "1" }, body: "hello" });
    expect(await answerFrom(pool, up.url)).toMatchObject({ status: 200, body: "hello" });
    expect(up.opened).toBe(1);
  });

  it("does not reuse a connection after `Connection: close`, bytes after the answer, or two framings", async () => {
    const answers: Record<string, string> = {
      "/recommend/close": okAnswer("bye", "Connection: close"),
      "/recommend/extra": `${okAnswer("ok")}EXTRA`,
      "/recommend/both": "HTTP/1.1 200 OK\r\nContent-Length: 99\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhi\r\n0\r\n\r\n",
    };
    const up = await rawUpstream((socket, request) => { socket.write(answers[request.split(" ")[1]]); });
    const pool = startPool();
    expect(await answerFrom(pool, up.url, "/recommend/close")).toMatchObject({ body: "bye" });
    expect(await answerFrom(pool, up.url, "/recommend/extra")).toMatchObject({ body: "ok" });
    expect(await answerFrom(pool, up.url, "/recommend/both")).toMatchObject({ body: "hi" });
    expect(await answerFrom(pool, up.url, "/recommend/close")).toMatchObject({ body: "bye" });
    expect(up.opened).toBe(4);
    await within(until(() => up.closed === 4), "the pool to close all four connections");
  });

  it("reports a refused connect as 'refused'", async () => {
    const outcome = await outcomeOf(send(startPool(), await deadUrl()).t);
    expect(outcome).toMatchObject({ failure: "refused" });
    expect((outcome as { detail: string }).detail).toMatch(/ECONNREFUSED/);
  });

  it("reports an upstream that closes mid-answer as 'broken'", async () => {
    const up = await rawUpstream((socket) => { socket.end("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc"); });
    const { t } = send(startPool(), up.url);
    expect(await outcomeOf(t)).toMatchObject({ failure: "broken" });
  });

  it("reports an upstream that closes before answering as 'broken'", async () => {
    const up = await rawUpstream((socket) => socket.destroy());
    expect(await outcomeOf(send(startPool(), up.url).t)).toMatchObject({ failure: "broken" });
  });

  it("reports garbage as 'broken' and closes that connection", async () => {
    const up = await rawUpstream((socket) => { socket.write("SSH-2.0-OpenSSH_9.6\r\n\r\n"); });
    const { t } = send(startPool(), up.url);
    expect(await outcomeOf(t)).toMatchObject({ failure: "broken" });
    await within(until(() => up.closed === 1), "the connection to close");
  });

  it("reports a protocol switch (101) as 'broken'", async () => {
    const up = await rawUpstream((socket) => { socket.write("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: upgrade\r\n\r\n"); });
    expect(await outcomeOf(send(startPool(), up.url).t)).toMatchObject({ failure: "broken" });
  });

  it("reports an answer head over 64 KiB as 'broken'", async () => {
    const up = await rawUpstream((socket) => { socket.write(`HTTP/1.1 200 OK\r\nX-Pad: ${"p".repeat(70 * 1024)}`); });
    expect(await outcomeOf(send(startPool(), up.url).t)).toMatchObject({ failure: "broken" });
  });

  it("reports a bad chunked body as 'broken'", async () => {
    const up = await rawUpstream((socket) => { socket.write("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"); });
    expect(await outcomeOf(send(startPool(), up.url).t)).toMatchObject({ failure: "broken" });
  });

  it("calls the handler exactly once per try", async () => {
    const up = await rawUpstream((socket) => { socket.end("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc"); });
    const pool = startPool();
    const tries = [send(pool, up.url).t, send(pool, await deadUrl()).t];
    await Promise.all(tries.map(outcomeOf));
    await sleep(100);
    expect(tries.map((t) => t.calls)).toEqual([1, 1]);
  });

  describe("maxBody", () => {
    const limit = 1000;
    const big = "y".repeat(limit + 1);
    const bodies: [string, (socket: Socket) => void][] = [
      ["chunked", (s) => { s.write(`HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n${big.length.toString(16)}\r\n${big}\r\n0\r\n\r\n`); }],
      ["close-delimited", (s) => { s.end(`HTTP/1.1 200 OK\r\n\r\n${big}`); }],
      ["content-length", (s) => { s.write(okAnswer(big)); }],
    ];
    it.each(bodies)("calls a %s body over maxBody 'broken'", async (_, respond) => {
      const up = await rawUpstream(respond);
      const outcome = await outcomeOf(send(startPool({ maxBody: limit }), up.url).t);
      expect(outcome, `a ${big.length}-byte answer passed maxBody ${limit}`).toMatchObject({ failure: "broken" });
    });

    it("takes a body of exactly maxBody", async () => {
      const up = await rawUpstream((s) => { s.write(okAnswer("z".repeat(limit))); });
      expect((await answerFrom(startPool({ maxBody: limit }), up.url)).body).toHaveLength(limit);
    });
  });

  it("cancel(): the handler is never called and the connection is closed, not reused", async () => {
    const waiting: Socket[] = [];
    const up = await rawUpstream((socket, request) => {
      if (request.includes("/slow")) waiting.push(socket);
      else socket.write(okAnswer("quick"));
    });
    const pool = startPool();
    const { t, cancel } = send(pool, up.url, "/recommend/slow");
    await within(until(() => waiting.length === 1), "the upstream to get the request");
    cancel();
    await within(until(() => up.closed === 1), "the cancelled connection to close");
    waiting[0].write(okAnswer("late")); // to a closed connection: nobody may hear it
    expect(await answerFrom(pool, up.url)).toMatchObject({ body: "quick" });
    expect(up.opened).toBe(2);
    await sleep(50);
    expect(t.calls).toBe(0);
  });

  it("cancel() right after send frees the connection slot (maxConnections=1)", async () => {
    const up = await httpUpstream((_, res) => res.end("ok"));
    const pool = startPool({ maxConnections: 1 });
    const cancelled = send(pool, up.url);
    cancelled.cancel();
    expect(await answerFrom(pool, up.url)).toMatchObject({ body: "ok" });
    await sleep(50);
    expect(cancelled.t.calls).toBe(0);
  });

  it("cancel() after the answer changes nothing: the connection is reused", async () => {
    const up = await httpUpstream((_, res) => res.end("ok"));
    const pool = startPool();
    const first = send(pool, up.url);
    await outcomeOf(first.t);
    first.cancel();
    expect(await answerFrom(pool, up.url)).toMatchObject({ body: "ok" });
    expect(up.opened).toBe(1);
    expect(up.closed).toBe(0);
  });

  /** An upstream that holds `/slow` requests until `release()`; others answer at once. */
  async function holdingUpstream(): Promise<Upstream & { held: ServerResponse[]; release(): void }> {
    const held: ServerResponse[] = [];
    const up = await httpUpstream((req, res) => {
      if (req.url!.includes("/slow")) held.push(res);
      else res.end(`answer to ${req.url}`);
    });
    return Object.assign(up, { held, release: () => { for (const res of held.splice(0)) res.end(`answer to ${res.req.url}`); } });
  }

  /**
   * A pool with one connection: `/recommend/slow` is held at the upstream, and `/recommend/2`,
   * sent in a later turn (so not in the first one's batch), waits behind it.
   */
  async function oneConnectionTwoSends() {
    const up = await holdingUpstream();
    const pool = startPool({ maxConnections: 1 });
    const first = send(pool, up.url, "/recommend/slow");
    await within(until(() => up.held.length === 1), "the first request");
    const second = send(pool, up.url, "/recommend/2");
    return { up, pool, first, second };
  }

  it("maxConnections=1 queues a second send until the first is answered, then uses the same connection", async () => {
    const { up, pool, first, second } = await oneConnectionTwoSends();
    await sleep(100);
    expect(up.requests).toEqual(["GET /recommend/slow"]);
    expect(second.t.calls).toBe(0);
    up.release();
    expect(await outcomeOf(first.t)).toMatchObject({ answer: { body: "answer to /recommend/slow" } });
    expect(await outcomeOf(second.t)).toMatchObject({ answer: { body: "answer to /recommend/2" } });
    expect(up.requests).toEqual(["GET /recommend/slow", "GET /recommend/2"]);
    expect(up.opened).toBe(1);
  });

  it("a queued send that is cancelled is never sent", async () => {
    const { up, pool, first, second } = await oneConnectionTwoSends();
    second.cancel();
    up.release();
    await outcomeOf(first.t);
    expect(await answerFrom(pool, up.url, "/recommend/3")).toMatchObject({ body: "answer to /recommend/3" });
    expect(up.requests).toEqual(["GET /recommend/slow", "GET /recommend/3"]);
    expect(second.t.calls).toBe(0);
  });

  it("closes connections idle for idleMs", async () => {
    const up = await httpUpstream((_, res) => res.end("ok"));
    const pool = startPool({ idleMs: 150 });
    await answerFrom(pool, up.url);
    expect(up.opened).toBe(1);
    await within(until(() => up.closed === 1), "the idle connection to close");
    expect(await answerFrom(pool, up.url)).toMatchObject({ body: "ok" });
    expect(up.opened).toBe(2);
  });

  it("opens a new connection when the upstream closed the idle one", async () => {
    const up = await httpUpstream((_, res) => res.end("ok"), 100);
    const pool = startPool({ idleMs: 60_000 });
    await answerFrom(pool, up.url);
    await within(until(() => up.closed === 1), "the upstream's keep-alive timeout");
    expect(await answerFrom(pool, up.url)).toMatchObject({ body: "ok" });
    expect(up.opened).toBe(2);
  });

  it("close() fails queued sends and later ones, lets the one in flight finish, then closes its connection", async () => {
    const { up, pool, first: inFlight, second: queued } = await oneConnectionTwoSends();
    pool.close();
    expect(await outcomeOf(queued.t)).toMatchObject({ failure: "broken" });
    const later = send(pool, up.url, "/recommend/3");
    expect(later.t.outcome).toMatchObject({ failure: "broken" });
    up.release();
    expect(await outcomeOf(inFlight.t)).toMatchObject({ answer: { body: "answer to /recommend/slow" } });
    await within(until(() => up.closed === 1), "the connection to close after its answer");
    expect(up.requests).toEqual(["GET /recommend/slow"]);
  });

  it("close() closes idle connections", async () => {
    const up = await httpUpstream((_, res) => res.end("ok"));
    const pool = startPool();
    await answerFrom(pool, up.url);
    pool.close();
    await within(until(() => up.closed === 1), "the idle connection to close");
  });
});

describe("upstream pool: tries of one turn go out together", () => {
  it("sends one turn's tries for one upstream on one connection in one write, each answer to its own try", async () => {
    const up = await httpUpstream((req, res) => res.end(`answer to ${req.url}`));
    const seen: number[] = [];
    up.server.on("connection", (s: Socket) => s.on("data", (c: Buffer) => seen.push(c.toString("latin1").split("GET ").length - 1)));
    const pool = startPool();
    const tries = [1, 2, 3, 4].map((n) => send(pool, up.url, `/recommend/${n}`).t);
    const outcomes = await Promise.all(tries.map(outcomeOf));
    expect(outcomes.map((o) => ("answer" in o ? o.answer.body : o.failure))).toEqual([1, 2, 3, 4].map((n) => `answer to /recommend/${n}`));
    expect(up.opened, "one connection for the turn's batch").toBe(1);
    expect(seen, "the four requests in one read at the upstream").toEqual([4]);
    expect(up.requests).toEqual([1, 2, 3, 4].map((n) => `GET /recommend/${n}`));
  });

  it("delivers several answers in one read, and answers split anywhere, to their own tries", async () => {
    const answers = [
      okAnswer("first"),
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n6\r\nsecond\r\n0\r\n\r\n",
      "HTTP/1.1 204 No Content\r\n\r\n",
      "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 503 Service Unavailable\r\nContent-Length: 6\r\n\r\nfourth",
    ];
    const all = answers.join("");
    for (const pieces of [[all], all.match(/[\s\S]{1,7}/g)!]) {
      const up = await rawUpstream((socket, request) => {
        if (request.includes("/recommend/4")) void writeSlowly(socket, pieces, 2);
      });
      const pool = startPool();
      const tries = [1, 2, 3, 4].map((n) => send(pool, up.url, `/recommend/${n}`).t);
      const outcomes = await Promise.all(tries.map(outcomeOf));
      expect(outcomes.map((o) => ("answer" in o ? `${o.answer.status} ${o.answer.body}` : o.failure)), `answers in ${pieces.length} piece(s)`)
        .toEqual(["200 first", "200 second", "204 ", "503 fourth"]);
      expect(up.opened).toBe(1);
      // The connection is reused after the batch: a next try needs no new one.
      const again = send(pool, up.url, "/recommend/5").t;
      await sleep(50);
      expect(up.requests.at(-1)).toBe("GET /recommend/5");
      expect(again.calls).toBe(0);
      expect(up.opened).toBe(1);
    }
  });

  it("a later turn's try takes another connection instead of waiting behind an unanswered batch", async () => {
    const held: ServerResponse[] = [];
    const up = await httpUpstream((req, res) => { if (req.url!.includes("slow")) held.push(res); else res.end(`answer to ${req.url}`); });
    const pool = startPool();
    const slow = send(pool, up.url, "/recommend/slow").t;
    await within(until(() => held.length === 1), "the slow request");
    expect(await answerFrom(pool, up.url, "/recommend/2")).toMatchObject({ body: "answer to /recommend/2" });
    expect(up.opened).toBe(2);
    held[0].end("late");
    expect(await outcomeOf(slow)).toMatchObject({ answer: { body: "late" } });
  });

  it("batchSize caps a batch: a turn's tries beyond it go on further connections; 1 sends one per connection", async () => {
    for (const [batchSize, connections] of [[2, 3], [1, 5], [16, 1]]) {
      const up = await httpUpstream((req, res) => res.end(`answer to ${req.url}`));
      const pool = startPool({ batchSize });
      const outcomes = await Promise.all([1, 2, 3, 4, 5].map((n) => outcomeOf(send(pool, up.url, `/recommend/${n}`).t)));
      expect(outcomes.map((o) => ("answer" in o ? o.answer.body : o.failure))).toEqual([1, 2, 3, 4, 5].map((n) => `answer to /recommend/${n}`));
      expect(up.opened, `batchSize ${batchSize}`).toBe(connections);
    }
  });

  it("a connection that breaks fails the try whose answer was due as 'broken' and drops the ones behind it", async () => {
    const up = await rawUpstream((socket, request) => { if (request.includes("/recommend/3")) socket.end(`${okAnswer("one")}HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\ntw`); });
    const pool = startPool();
    const outcomes = await Promise.all([1, 2, 3].map((n) => outcomeOf(send(pool, up.url, `/recommend/${n}`).t)));
    expect(outcomes.map((o) => ("answer" in o ? o.answer.body : o.failure))).toEqual(["one", "broken", "dropped"]);
  });

  it("a refused connect refuses every try of the batch", async () => {
    const pool = startPool();
    const url = await deadUrl();
    const outcomes = await Promise.all([1, 2, 3].map((n) => outcomeOf(send(pool, url, `/recommend/${n}`).t)));
    expect(outcomes.map((o) => ("failure" in o ? o.failure : "answer"))).toEqual(["refused", "refused", "refused"]);
  });

  it("`Connection: close` on an answer drops the tries behind it, which no other answer reaches", async () => {
    const up = await rawUpstream((socket, request) => { if (request.includes("/recommend/1")) socket.end(okAnswer("bye", "Connection: close")); });
    const pool = startPool();
    const tries = [1, 2].map((n) => send(pool, up.url, `/recommend/${n}`).t);
    const outcomes = await Promise.all(tries.map(outcomeOf));
    expect(outcomes.map((o) => ("answer" in o ? o.answer.body : o.failure))).toEqual(["bye", "dropped"]);
    expect(tries.map((t) => t.calls)).toEqual([1, 1]);
  });

  it("cancelling the try whose answer is due closes the connection and drops the tries behind it", async () => {
    const held: ServerResponse[] = [];
    const up = await httpUpstream((req, res) => { if (req.url!.includes("slow")) held.push(res); else res.end(`answer to ${req.url}`); });
    const pool = startPool();
    const slow = send(pool, up.url, "/recommend/slow");
    const behind = send(pool, up.url, "/recommend/2").t;
    await within(until(() => up.requests.length === 2), "both requests");
    slow.cancel();
    expect(await outcomeOf(behind)).toMatchObject({ failure: "dropped" });
    await within(until(() => up.closed === 1), "the connection to close");
    held[0]?.end("late");
    await sleep(50);
    expect(slow.t.calls).toBe(0);
  });

  it("cancelling a try behind another lets the one ahead be answered, then closes the connection", async () => {
    const held: ServerResponse[] = [];
    const up = await httpUpstream((req, res) => { if (req.url!.includes("slow")) held.push(res); else res.end(`answer to ${req.url}`); });
    const pool = startPool();
    const ahead = send(pool, up.url, "/recommend/1").t;
    const cancelled = send(pool, up.url, "/recommend/slow");
    await within(until(() => up.requests.length === 2), "both requests");
    cancelled.cancel();
    expect(await outcomeOf(ahead)).toMatchObject({ answer: { body: "answer to /recommend/1" } });
    await within(until(() => up.closed === 1), "the connection whose next answer nobody waits for to close");
    await sleep(50);
    expect(cancelled.t.calls).toBe(0);
  });
});
