/**
 * What the proxy benches share (bench/route.ts, bench/route-ab.ts): child processes that announce
 * when they are ready, the stub upstreams, real-time priority for the load side, closed-loop
 * phases through autocannon, and the CPU a process spent on a phase, read from /proc.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { readdir, readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";

export const ROOT = fileURLToPath(new URL("../..", import.meta.url));

export interface CannonResult {
  requests: { average: number; total: number };
  latency: { p50: number; p99: number };
  errors: number;
  timeouts: number;
  non2xx: number;
}
type Cannon = (opts: Record<string, unknown>) => Promise<CannonResult>;
// autocannon ships no types; this is the slice of its API used here.
const autocannon = createRequire(import.meta.url)("autocannon") as Cannon;

/** The child processes of one bench run; `stopAll` ends them, after which their exits are not reported. */
export class Children {
  private readonly started: ChildProcess[] = [];
  private stopping = false;

  /** Spawns a long-running process and resolves with the first stdout match of `ready` (null: after 500 ms). */
  start(cmd: string, argv: string[], ready: RegExp | null, cwd = ROOT): Promise<{ child: ChildProcess; match: string }> {
    const child = spawn(cmd, argv, { cwd, stdio: ["ignore", "pipe", "pipe"] });
    this.started.push(child);
    let err = "";
    child.stderr!.on("data", (c: Buffer) => { err += c.toString(); });
    return new Promise((resolve, reject) => {
      child.once("error", reject);
      child.once("exit", (code, signal) => {
        const why = `${[cmd, ...argv].join(" ").slice(0, 120)} exited (${code ?? signal}): ${err.trim().slice(-300)}`;
        reject(new Error(why));
        // After it started, say so: its phases would otherwise just show 0 requests.
        if (!this.stopping) console.log(`!! ${why}`);
      });
      if (!ready) return setTimeout(() => resolve({ child, match: "" }), 500);
      let out = "";
      child.stdout!.on("data", (c: Buffer) => {
        out += c.toString();
        const m = ready.exec(out);
        if (m) resolve({ child, match: m[1] });
      });
    });
  }

  /** The three stub upstreams (stable-1, stable-2, canary) in one child process. */
  async startStubs(): Promise<{ child: ChildProcess; urls: string[] }> {
    const { child, match } = await this.start(process.execPath, ["--import", "tsx", "bench/lib/stub-trio.ts"], /listening (.+)\n/);
    return { child, urls: match.split(" ") };
  }

  /** `recsys route` from the tree at `root` (default this one) with the config file at `config`. */
  async startRouter(config: string, root = ROOT): Promise<{ child: ChildProcess; url: string }> {
    const { child, match } = await this.start(process.execPath, ["--import", "tsx", "packages/cli/src/main.ts", "route", "--config", config, "--port", "0", "--host", "127.0.0.1"], /routing (\S+)/, root);
    return { child, url: match };
  }

  async stopAll(): Promise<void> {
    this.stopping = true;
    for (const child of this.started) child.kill("SIGTERM");
    await new Promise((r) => setTimeout(r, 300));
  }
}

/**
 * Moves every thread of `pid` to real-time priority (SCHED_FIFO, low), where the machine allows it.
 * The load generator and the upstreams run so, leaving the proxy under test the only busy process
 * that waits for a core: otherwise on a 2-core machine each process of the four waits its turn
 * now and then for several ms, and that waiting, not the proxy, sets the p99 of both proxies.
 */
export function realTime(pid: number): Promise<boolean> {
  return new Promise((resolve) => spawn("chrt", ["-a", "-f", "-p", "5", String(pid)], { stdio: "ignore" })
    .once("error", () => resolve(false)).once("exit", (code) => resolve(code === 0)));
}

/** Users the benches cycle through. */
export const USERS = 10_000;
/** The i-th request's target: users round-robin. */
export const userPath = (i: number): string => `/recommend/${(i % USERS) + 1}`;

/** A closed-loop phase at full speed through autocannon, the i-th request going to `path(i)`. */
export function closedLoop(url: string, opts: { connections: number; seconds: number; path: (i: number) => string }): Promise<CannonResult> {
  let n = 0;
  return autocannon({
    url, connections: opts.connections, duration: opts.seconds,
    requests: [{ method: "GET", setupRequest: (req: { path: string }) => { req.path = opts.path(n++); return req; } }],
  });
}

/** User + system CPU seconds so far of one process, all its threads (exited ones included), from /proc/PID/stat. */
async function ownCpuSeconds(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in USER_HZ (100 on Linux)
}

/**
 * User + system CPU seconds so far of a process and its live descendants (a router's worker
 * processes count as the router), or NaN where /proc is not there.
 */
async function cpuSeconds(pid: number): Promise<number> {
  try {
    const own = await ownCpuSeconds(pid);
    const children = (await readFile(`/proc/${pid}/task/${pid}/children`, "utf8").catch(() => "")).trim().split(" ").filter(Boolean);
    const theirs = await Promise.all(children.map((c) => cpuSeconds(Number(c)).then((s) => (Number.isNaN(s) ? 0 : s))));
    return theirs.reduce((a, b) => a + b, own);
  } catch {
    return NaN;
  }
}

/**
 * Nanoseconds on a CPU so far of a process's main thread, from /proc/PID/task/PID/schedstat (the
 * scheduler's own count), and of all its threads, from /proc/PID/stat (10 ms ticks, but it keeps
 * the time of threads that have exited, such as the API's archiving worker: a sum over the live
 * threads would lose it); NaN where /proc is not there. A Node server's main thread bounds its
 * throughput; the other threads are libuv's pool (file writes), workers and V8's helpers.
 */
export async function threadCpuNs(pid: number): Promise<{ main: number; all: number }> {
  try {
    const [sched, all] = await Promise.all([readFile(`/proc/${pid}/task/${pid}/schedstat`, "utf8"), ownCpuSeconds(pid)]);
    return { main: Number(sched.split(" ")[0]), all: all * 1e9 };
  } catch {
    return { main: NaN, all: NaN };
  }
}

/** Runs `phase` and adds the CPU time per request that `pid` (the process under test) spent on it. */
export async function withCpu<T>(pid: number, phase: () => Promise<T>, requests: (r: T) => number): Promise<T & { cpuUsPerReq: number }> {
  const before = await cpuSeconds(pid);
  const r = await phase();
  const cpu = (await cpuSeconds(pid)) - before;
  return { ...r, cpuUsPerReq: (cpu * 1e6) / Math.max(1, requests(r)) };
}

export type Measured = CannonResult & { cpuUsPerReq: number };

/** A closed-loop phase at full speed over `userPath`, with the CPU per request of `pid` (the proxy under test): its peak. */
export const measurePeak = (url: string, pid: number, connections: number, seconds: number): Promise<Measured> =>
  withCpu(pid, () => closedLoop(url, { connections, seconds, path: userPath }), (r) => r.requests.total);

/** One closed-loop row: throughput, latency, failures and the CPU per request. */
export function peakRow(name: string, r: Measured): string {
  const bad = r.errors + r.timeouts + r.non2xx;
  const cpu = Number.isNaN(r.cpuUsPerReq) ? "" : `   cpu ${r.cpuUsPerReq.toFixed(0).padStart(3)} us/req`;
  return `${name.padEnd(40)} ${r.requests.average.toFixed(0).padStart(7)} req/s   p50 ${String(r.latency.p50).padStart(4)} ms   p99 ${String(r.latency.p99).padStart(4)} ms   failed ${bad}${cpu}`;
}

/** The run in the middle by `key` (the rest of its figures come with it). */
export function median<T>(runs: T[], key: (r: T) => number): T {
  return [...runs].sort((a, b) => key(a) - key(b))[(runs.length - 1) >> 1];
}

/** Runs `phase` for each of `among` in each of `rounds` rounds, alternating which goes first (a shared machine's speed drifts). */
export async function inRounds<C, T>(among: C[], rounds: number, phase: (c: C, i: number) => Promise<T>, show: (i: number, round: number, r: T) => void): Promise<T[][]> {
  const runs = among.map((): T[] => []);
  for (let round = 0; round < rounds; round++) {
    const order = among.map((_, i) => i);
    if (round % 2 === 1) order.reverse();
    for (const i of order) {
      const r = await phase(among[i], i);
      runs[i].push(r);
      show(i, round, r);
    }
  }
  return runs;
}
