/**
 * An open-loop HTTP/1.1 load generator: requests are due at a fixed rate whatever the server does,
 * and each one's latency counts from the moment it was due, not from when it could be sent (as
 * wrk2 does). A server that stalls is charged for the requests waiting behind the stall.
 *
 * Why not autocannon's `overallRate`: it lets every connection send back to back until the
 * second's quota is used up and then idles until the next second, so a "fixed rate" is a burst at
 * full speed; and it "corrects" coordinated omission with an expected interval of 1 ms whatever
 * the rate, adding L-1 made-up samples for every answer that took L ms. Both inflate the p99 of
 * the slower server far beyond what a steady stream of users would see.
 *
 * Keep-alive connections, no pipelining: a due request goes to the first idle connection and
 * waits for one when all are busy; a broken connection is replaced. Answers must carry
 * Content-Length (both proxies and the stub upstreams do; any other answer counts as failed).
 * Due requests go out on a 1 ms tick or as soon as a connection frees, so each latency includes up
 * to 1 ms of waiting for the tick, alike for every server. Latencies are binned at 10 µs up to 10 s.
 */
import { connect, type Socket } from "node:net";
import { performance } from "node:perf_hooks";

export interface OpenLoopOptions {
  url: string;
  /** Requests per second, spread evenly. */
  rate: number;
  /** Measured time; requests due in the first `warmupSeconds` are sent but not counted. */
  seconds: number;
  warmupSeconds?: number;
  connections: number;
  /** Path of the i-th request. */
  path: (i: number) => string;
  /** Gets every counted latency (µs) too, to pool several runs into one distribution. */
  samplesUs?: number[];
}

export interface OpenLoopResult {
  rate: number;
  /** Counted requests that got a 2xx answer, per second of the measured time. */
  throughput: number;
  completed: number;
  /** Non-2xx answers, broken connections and requests unanswered when the run ended. */
  failed: number;
  latencyMs: { p50: number; p90: number; p99: number; p999: number; max: number };
}

const BIN_US = 10;
const BINS = 1_000_000; // 10 s at 10 µs
const DRAIN_MS = 2000;

class LatencyBins {
  private readonly counts = new Uint32Array(BINS + 1);
  private total = 0;
  private maxUs = 0;

  add(us: number): void {
    this.counts[Math.min(BINS, Math.floor(us / BIN_US))]++;
    this.total++;
    if (us > this.maxUs) this.maxUs = us;
  }

  /** The q-quantile in milliseconds (upper edge of its bin). */
  quantileMs(q: number): number {
    const want = Math.ceil(q * this.total);
    let seen = 0;
    for (let i = 0; i <= BINS; i++) {
      seen += this.counts[i];
      if (seen >= want && seen > 0) return ((i + 1) * BIN_US) / 1000;
    }
    return 0;
  }

  get maxMs(): number {
    return this.maxUs / 1000;
  }
}

interface Connection {
  socket: Socket;
  /** Index of the request in flight, or -1 when idle. */
  inFlight: number;
  buffered: Buffer | null;
}

const HEAD_END = Buffer.from("\r\n\r\n");

/**
 * Bytes the answer at the front of `buf` takes, 0 while it is incomplete, -1 when it has no
 * Content-Length. The status code comes back through `status`.
 */
function answerLength(buf: Buffer, status: { code: number }): number {
  const headEnd = buf.indexOf(HEAD_END);
  if (headEnd < 0) return 0;
  status.code = Number(buf.toString("latin1", 9, 12));
  const head = buf.toString("latin1", 0, headEnd).toLowerCase();
  const at = head.indexOf("\r\ncontent-length:");
  if (at < 0) return -1;
  const bodyLength = Number.parseInt(head.slice(at + 17), 10);
  const total = headEnd + 4 + bodyLength;
  return buf.length >= total ? total : 0;
}

export async function runOpenLoop(opts: OpenLoopOptions): Promise<OpenLoopResult> {
  const { hostname } = new URL(opts.url);
  const port = Number(new URL(opts.url).port);
  const host = hostname.replace(/^\[|\]$/g, "");
  const warmup = opts.warmupSeconds ?? 1;
  const intervalMs = 1000 / opts.rate;
  const total = Math.floor((warmup + opts.seconds) * opts.rate);
  const firstCounted = Math.floor(warmup * opts.rate);
  const bins = new LatencyBins();
  const status = { code: 0 };
  let next = 0; // first request not yet sent
  let completed = 0;
  let failed = 0;
  let answered = 0;
  let start = Number.POSITIVE_INFINITY; // nothing is due before the run starts
  const idle: Connection[] = [];
  const counted = (i: number) => i >= firstCounted;

  const finish = (conn: Connection, ok: boolean) => {
    const i = conn.inFlight;
    conn.inFlight = -1;
    answered++;
    if (!counted(i)) return;
    if (!ok) { failed++; return; }
    completed++;
    const us = (performance.now() - (start + i * intervalMs)) * 1000;
    bins.add(us);
    opts.samplesUs?.push(us);
  };

  const send = (conn: Connection) => {
    conn.inFlight = next;
    conn.socket.write(`GET ${opts.path(next)} HTTP/1.1\r\nHost: ${host}\r\n\r\n`);
    next++;
  };

  /** Sends every due request that has an idle connection to go on. */
  const pump = () => {
    if (next >= total || idle.length === 0) return;
    const due = Math.min(total, Math.floor((performance.now() - start) / intervalMs) + 1);
    while (next < due && idle.length > 0) send(idle.pop()!);
  };

  let running = true;
  const connections = new Set<Connection>();

  /** Opens a connection that joins the idle ones once connected, and is replaced if it breaks. */
  const open = (): Promise<void> => new Promise((resolve, reject) => {
    const conn: Connection = { socket: connect({ host, port, noDelay: true }), inFlight: -1, buffered: null };
    connections.add(conn);
    conn.socket.once("connect", () => {
      conn.socket.removeListener("error", reject);
      conn.socket.on("error", () => {}); // reported through "close"
      idle.push(conn);
      pump();
      resolve();
    });
    conn.socket.once("error", reject);
    conn.socket.on("close", () => {
      connections.delete(conn);
      if (conn.inFlight >= 0) finish(conn, false);
      const at = idle.indexOf(conn);
      if (at >= 0) idle.splice(at, 1);
      if (running) open().catch(() => {}); // a refused reconnect leaves the rest to the others
    });
    conn.socket.on("data", (chunk: Buffer) => {
      const buf = conn.buffered ? Buffer.concat([conn.buffered, chunk]) : chunk;
      const length = answerLength(buf, status);
      if (length === 0) { conn.buffered = buf; return; }
      conn.buffered = null;
      if (length < 0 || length !== buf.length) { // not framed as expected: count it and start over
        conn.socket.destroy();
        return;
      }
      finish(conn, status.code >= 200 && status.code < 300);
      idle.push(conn);
      pump();
    });
  });

  await Promise.all(Array.from({ length: opts.connections }, open));
  start = performance.now();
  const tick = setInterval(pump, 1);
  const endAt = start + (warmup + opts.seconds) * 1000;
  while (performance.now() < endAt + DRAIN_MS && answered < total) {
    await new Promise((r) => setTimeout(r, 20));
  }
  clearInterval(tick);
  running = false;
  for (const conn of connections) conn.socket.destroy();
  const unanswered = Math.max(0, total - firstCounted - completed - failed);
  return {
    rate: opts.rate,
    throughput: completed / opts.seconds,
    completed,
    failed: failed + unanswered,
    latencyMs: { p50: bins.quantileMs(0.5), p90: bins.quantileMs(0.9), p99: bins.quantileMs(0.99), p999: bins.quantileMs(0.999), max: bins.maxMs },
  };
}
