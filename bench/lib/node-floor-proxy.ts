/**
 * Node's floor as a proxy, for bench/route.ts: the least a Node process can do per request and
 * still proxy — read a GET, send it on a pooled keep-alive connection to the next upstream in
 * turn, read the answer by its Content-Length and write it back. No validation, no sticky
 * assignment, no retries, no log, no metrics, one request per client read (no pipelining): not a
 * proxy to use, a yardstick for how much of the router's CPU is Node's own.
 *
 *     node --import tsx bench/lib/node-floor-proxy.ts <port> <upstream url>...   # prints "listening <url>"
 */
import { connect, createServer, type Socket } from "node:net";

const [port, ...upstreams] = process.argv.slice(2);
const targets = upstreams.map((u) => new URL(u));
const HEAD_END = Buffer.from("\r\n\r\n");

interface UpstreamConnection {
  socket: Socket;
  /** Where the answer in flight goes. */
  client: Socket | null;
  buffered: Buffer | null;
}

const idle: UpstreamConnection[][] = targets.map(() => []);
let turn = 0;

/** Bytes of the answer at the front of `buf`, or 0 while incomplete. */
function answerLength(buf: Buffer): number {
  const end = buf.indexOf(HEAD_END);
  if (end < 0) return 0;
  const at = buf.indexOf("ontent-length:", 0, "latin1");
  const total = end + 4 + Number.parseInt(buf.toString("latin1", at + 14, buf.indexOf(13, at)), 10);
  return buf.length >= total ? total : 0;
}

function open(i: number): UpstreamConnection {
  const conn: UpstreamConnection = { socket: connect({ host: targets[i].hostname, port: Number(targets[i].port), noDelay: true }), client: null, buffered: null };
  conn.socket.on("error", () => {});
  // An upstream closes idle keep-alive connections (the stubs after 30 s): drop it from the pool,
  // and fail the client whose answer it carried, if any.
  conn.socket.on("close", () => {
    const at = idle[i].indexOf(conn);
    if (at >= 0) idle[i].splice(at, 1);
    conn.client?.destroy();
  });
  conn.socket.on("data", (chunk: Buffer) => {
    const buf = conn.buffered ? Buffer.concat([conn.buffered, chunk]) : chunk;
    if (answerLength(buf) === 0) { conn.buffered = buf; return; }
    conn.buffered = null;
    conn.client?.write(buf);
    conn.client = null;
    idle[i].push(conn);
  });
  return conn;
}

createServer({ noDelay: true }, (client) => {
  client.on("error", () => {});
  client.on("data", (request: Buffer) => {
    const i = turn++ % targets.length;
    const conn = idle[i].pop() ?? open(i);
    conn.client = client;
    const space = request.indexOf(32, 4);
    conn.socket.write(`GET ${request.toString("latin1", 4, space)} HTTP/1.1\r\nhost: ${targets[i].host}\r\n\r\n`);
  });
}).listen(Number(port), "127.0.0.1", function (this: ReturnType<typeof createServer>) {
  const { port: bound } = this.address() as { port: number };
  process.stdout.write(`listening http://127.0.0.1:${bound}\n`);
});
