/**
 * Node's floor as a proxy, for bench/route.ts: the least a Node process can do per request and
 * still proxy the way the router does — read a GET, send it on to the next upstream in turn,
 * the turn's requests for one upstream pipelined in one write on one kept-alive connection (as
 * the router's pool batches them), read the answers by their Content-Length and write each back.
 * No validation, no sticky assignment, no retries, no log, no metrics, one request per client
 * read (no client pipelining): not a proxy to use, a yardstick for how much of the router's CPU
 * is Node's own.
 *
 *     node --import tsx bench/lib/node-floor-proxy.ts <port> <upstream url>...   # prints "listening <url>"
 */
import { connect, createServer, type Socket } from "node:net";

const [port, ...upstreams] = process.argv.slice(2);
const targets = upstreams.map((u) => new URL(u));
const HEAD_END = Buffer.from("\r\n\r\n");

interface UpstreamConnection {
  socket: Socket;
  /** Where the answers owed go, oldest first. */
  clients: Socket[];
  /** This turn's requests, not yet written. */
  out: string;
  buffered: Buffer | null;
}

const idle: UpstreamConnection[][] = targets.map(() => []);
/** Per upstream, the connection gathering this turn's requests. */
const gathering: (UpstreamConnection | null)[] = targets.map(() => null);
let turn = 0;
let writeScheduled = false;

const writeBatches = (): void => {
  writeScheduled = false;
  gathering.forEach((conn, i) => {
    if (conn === null) return;
    conn.socket.write(conn.out);
    conn.out = "";
    gathering[i] = null;
  });
};

/** Bytes of the answer at `buf[at]`, or 0 while incomplete. */
function answerLength(buf: Buffer, at: number): number {
  const end = buf.indexOf(HEAD_END, at);
  if (end < 0) return 0;
  const cl = buf.indexOf("ontent-length:", at, "latin1");
  const total = end + 4 - at + Number.parseInt(buf.toString("latin1", cl + 14, buf.indexOf(13, cl)), 10);
  return buf.length - at >= total ? total : 0;
}

function open(i: number): UpstreamConnection {
  const conn: UpstreamConnection = { socket: connect({ host: targets[i].hostname, port: Number(targets[i].port), noDelay: true }), clients: [], out: "", buffered: null };
  conn.socket.on("error", () => {});
  // An upstream closes idle keep-alive connections (the stubs after 30 s): drop it from the pool,
  // and fail the clients whose answers it owed, if any.
  conn.socket.on("close", () => {
    const at = idle[i].indexOf(conn);
    if (at >= 0) idle[i].splice(at, 1);
    for (const client of conn.clients) client.destroy();
  });
  conn.socket.on("data", (chunk: Buffer) => {
    const buf = conn.buffered ? Buffer.concat([conn.buffered, chunk]) : chunk;
    let at = 0;
    for (let n = answerLength(buf, at); n > 0; n = answerLength(buf, at)) {
      conn.clients.shift()!.write(at === 0 && n === buf.length ? buf : buf.subarray(at, at + n));
      at += n;
    }
    conn.buffered = at < buf.length ? buf.subarray(at) : null;
    if (conn.clients.length === 0) idle[i].push(conn);
  });
  return conn;
}

createServer({ noDelay: true }, (client) => {
  client.on("error", () => {});
  client.on("data", (request: Buffer) => {
    const i = turn++ % targets.length;
    let conn = gathering[i];
    if (conn === null) {
      conn = idle[i].pop() ?? open(i);
      gathering[i] = conn;
      if (!writeScheduled) {
        writeScheduled = true;
        setImmediate(writeBatches);
      }
    }
    conn.clients.push(client);
    const space = request.indexOf(32, 4);
    conn.out += `GET ${request.toString("latin1", 4, space)} HTTP/1.1\r\nhost: ${targets[i].host}\r\n\r\n`;
  });
}).listen(Number(port), "127.0.0.1", function (this: ReturnType<typeof createServer>) {
  const { port: bound } = this.address() as { port: number };
  process.stdout.write(`listening http://127.0.0.1:${bound}\n`);
});
