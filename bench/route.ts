/**
 * Router overhead: throughput and p99 of GET /recommend/<user> straight to one upstream, through
 * the router (`recsys route`, one process, event log on), and through nginx with the same
 * weighted 20/40/40 sticky upstream and one worker (when nginx is installed), all in one run
 * against the same three stub upstreams (one process) answering a fixed 20-id line, with the same
 * connections, phase length and user sequence.
 *
 * 1. Peaks: closed loop at full speed (autocannon), in alternating order over several rounds (a
 *    shared machine's load drifts), medians compared: the router, nginx, and two yardsticks for
 *    where the router's CPU goes: the same router without its event log, and Node's floor (a
 *    bare Node proxy, bench/lib/node-floor-proxy.ts).
 * 2. Latency at equal p99, read literally: nginx is driven at fixed rates R (50/70/90% of its
 *    median peak) and the router at 80% of each R, open loop (bench/lib/open-loop.ts: requests
 *    are due at a steady rate and latency counts from when each was due). The router keeps 80% of
 *    nginx's throughput at equal p99 at R when it answers that 80% with a p99 no worse than
 *    nginx's at R. Each point is measured in every round, medians compared.
 *
 * The last line says whether this run met the target (both parts, at every R). Beside each figure:
 * the CPU time the proxying process itself spent per request (from /proc, Linux only), which a
 * machine shared with other work disturbs far less than throughput or p99 do; their ratio is the
 * share the router would reach if both were bound by their own CPU.
 *
 *     npx tsx bench/route.ts                              # 8 s per phase, 32 connections, 3 rounds
 *     npx tsx bench/route.ts --seconds 5 --connections 64 --rounds 5
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { createServer } from "node:net";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { runOpenLoop, type OpenLoopResult } from "./lib/open-loop.ts";

interface CannonResult {
  requests: { average: number; total: number };
  latency: { p50: number; p99: number };
  errors: number;
  timeouts: number;
  non2xx: number;
}
type Cannon = (opts: Record<string, unknown>) => Promise<CannonResult>;
// autocannon ships no types; this is the slice of its API used here.
const autocannon = createRequire(import.meta.url)("autocannon") as Cannon;

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const USERS = 10_000;
/** nginx's fixed rates as shares of its median peak; the router gets ROUTER_SHARE of each. */
const RATE_SHARES = [0.5, 0.7, 0.9];
const ROUTER_SHARE = 0.8;

const { values: args } = parseArgs({ options: {
  seconds: { type: "string", default: "8" }, connections: { type: "string", default: "32" }, rounds: { type: "string", default: "3" },
  "no-rt": { type: "boolean", default: false },
} });
const SECONDS = Number(args.seconds);
const CONNECTIONS = Number(args.connections);
const ROUNDS = Math.max(1, Number(args.rounds));

/**
 * Moves every thread of `pid` to real-time priority (SCHED_FIFO, low), where the machine allows it.
 * The load generator and the upstreams run so, leaving the proxy under test the only busy process
 * that waits for a core: otherwise on a 2-core machine each process of the four waits its turn
 * now and then for several ms, and that waiting, not the proxy, sets the p99 of both proxies.
 */
async function realTime(pid: number): Promise<boolean> {
  if (args["no-rt"]) return false;
  return new Promise((resolve) => spawn("chrt", ["-a", "-f", "-p", "5", String(pid)], { stdio: "ignore" })
    .once("error", () => resolve(false)).once("exit", (code) => resolve(code === 0)));
}

const userPath = (i: number) => `/recommend/${(i % USERS) + 1}`;

async function run(url: string, seconds: number): Promise<CannonResult> {
  let n = 0;
  return autocannon({
    url, connections: CONNECTIONS, duration: seconds,
    requests: [{ method: "GET", setupRequest: (req: { path: string }) => { req.path = userPath(n++); return req; } }],
  });
}

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
  const { port } = srv.address() as { port: number };
  await new Promise((r) => srv.close(r));
  return port;
}

/** Spawns a long-running process and resolves with the first stdout match of `ready`. */
function start(cmd: string, argv: string[], ready: RegExp | null, cwd = ROOT): Promise<{ child: ChildProcess; match: string }> {
  const child = spawn(cmd, argv, { cwd, stdio: ["ignore", "pipe", "pipe"] });
  let err = "";
  child.stderr!.on("data", (c: Buffer) => { err += c.toString(); });
  return new Promise((resolve, reject) => {
    child.once("error", reject);
    child.once("exit", (code, signal) => {
      const why = `${[cmd, ...argv].join(" ").slice(0, 120)} exited (${code ?? signal}): ${err.trim().slice(-300)}`;
      reject(new Error(why));
      // After it started, say so: its phases would otherwise just show 0 requests.
      if (!stopping) console.log(`!! ${why}`);
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
async function startStubs(): Promise<{ child: ChildProcess; urls: string[] }> {
  const { child, match } = await start(process.execPath, ["--import", "tsx", "bench/lib/stub-trio.ts"], /listening (.+)\n/);
  return { child, urls: match.split(" ") };
}

async function startNginx(dir: string, urls: string[]): Promise<{ child: ChildProcess; url: string; worker: number } | null> {
  const port = await freePort();
  const hostPort = (u: string) => u.replace("http://", "");
  const vars: Record<string, string> = { PORT: String(port), CANARY: hostPort(urls[2]), STABLE_1: hostPort(urls[0]), STABLE_2: hostPort(urls[1]) };
  const template = await readFile(join(ROOT, "nginx/bench.conf.template"), "utf8");
  const conf = template.replace(/\$\{(PORT|CANARY|STABLE_1|STABLE_2)\}/g, (_, k: string) => vars[k]);
  await mkdir(join(dir, "tmp"), { recursive: true });
  await writeFile(join(dir, "nginx.conf"), conf);
  try {
    const { child } = await start("nginx", ["-p", dir, "-c", join(dir, "nginx.conf")], null);
    const url = `http://127.0.0.1:${port}`;
    await fetch(`${url}/recommend/1`);
    // One worker process does the proxying; the master only supervises.
    const worker = Number((await readFile(`/proc/${child.pid}/task/${child.pid}/children`, "utf8").catch(() => "")).trim().split(" ")[0]) || child.pid!;
    return { child, url, worker };
  } catch (err) {
    console.log(`nginx: skipped (${(err as Error).message.split("\n")[0]}; apt-get install -y nginx)`);
    return null;
  }
}

/** User + system CPU seconds of a process so far, or NaN where /proc is not there. */
async function cpuSeconds(pid: number): Promise<number> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in USER_HZ (100 on Linux)
  } catch {
    return NaN;
  }
}

type Measured = CannonResult & { cpuUsPerReq: number };

/** Runs `phase` and adds the CPU time per request that `pid` (the process under test) spent on it. */
async function withCpu<T>(pid: number, phase: () => Promise<T>, requests: (r: T) => number): Promise<T & { cpuUsPerReq: number }> {
  const before = await cpuSeconds(pid);
  const r = await phase();
  const cpu = (await cpuSeconds(pid)) - before;
  return { ...r, cpuUsPerReq: (cpu * 1e6) / Math.max(1, requests(r)) };
}

/** A closed-loop phase at full speed: the peak. */
const measure = (url: string, pid: number, seconds: number): Promise<Measured> =>
  withCpu(pid, () => run(url, seconds), (r) => r.requests.total);

type Paced = OpenLoopResult & { cpuUsPerReq: number };

/** An open-loop phase at a fixed rate: latency as a steady stream of users sees it. */
const pace = (url: string, pid: number, rate: number): Promise<Paced> =>
  withCpu(pid, () => runOpenLoop({ url, rate, seconds: SECONDS, connections: CONNECTIONS, path: userPath }), (r) => r.completed);

/** The run in the middle by `key` (the rest of its figures come with it). */
function median<T>(runs: T[], key: (r: T) => number): T {
  return [...runs].sort((a, b) => key(a) - key(b))[(runs.length - 1) >> 1];
}

function row(name: string, r: Measured): string {
  const bad = r.errors + r.timeouts + r.non2xx;
  const cpu = Number.isNaN(r.cpuUsPerReq) ? "" : `   cpu ${r.cpuUsPerReq.toFixed(0).padStart(3)} us/req`;
  return `${name.padEnd(40)} ${r.requests.average.toFixed(0).padStart(7)} req/s   p50 ${String(r.latency.p50).padStart(4)} ms   p99 ${String(r.latency.p99).padStart(4)} ms   failed ${bad}${cpu}`;
}

/** The median round's figures, and every round's p99 so the spread between rounds shows. */
function pacedRow(name: string, r: Paced, rounds: Paced[]): string {
  const l = r.latencyMs;
  const p99s = rounds.map((x) => x.latencyMs.p99.toFixed(1)).join("/");
  return `${name.padEnd(40)} ${r.throughput.toFixed(0).padStart(7)} req/s   p50 ${l.p50.toFixed(2)} ms   p99 ${l.p99.toFixed(2).padStart(6)} ms (rounds ${p99s})   p99.9 ${l.p999.toFixed(2).padStart(6)} ms   failed ${r.failed}   cpu ${r.cpuUsPerReq.toFixed(0).padStart(3)} us/req`;
}

/** Answered at least 98% of the requests offered. */
const keepsUp = (r: Paced): boolean => r.throughput >= 0.98 * r.rate;

interface Point { share: number; router: Paced; nginx: Paced }

/** The router, at 80% of nginx's rate, keeps up with a p99 no worse than nginx's. */
const matches = (p: Point): boolean => keepsUp(p.router) && p.router.latencyMs.p99 <= p.nginx.latencyMs.p99;

/** The target lines: met when the router's median peak is >= 80% of nginx's and it matches at every point. */
function verdict(routerPeak: Measured, nginxPeak: Measured, unloggedPeak: Measured, floorPeak: Measured, points: Point[]): string {
  const pct = (x: number) => `${(x * 100).toFixed(0)}%`;
  const share = routerPeak.requests.average / nginxPeak.requests.average;
  const matched = points.filter(matches);
  const met = share >= ROUTER_SHARE && matched.length === points.length;
  return [
    `router peak = ${pct(share)} of nginx's (medians of ${ROUNDS}); at ${pct(ROUTER_SHARE)} of nginx's rate the router matched nginx's p99 at ${matched.length ? matched.map((p) => pct(p.share)).join(", ") : "none"} of ${points.map((p) => pct(p.share)).join(", ")} of nginx's peak`,
    `CPU per request (median peaks): router ${routerPeak.cpuUsPerReq.toFixed(0)} us, nginx ${nginxPeak.cpuUsPerReq.toFixed(0)} us; each bound by its own CPU, the router would reach ${pct(nginxPeak.cpuUsPerReq / routerPeak.cpuUsPerReq)} of nginx`,
    `of the router's ${routerPeak.cpuUsPerReq.toFixed(0)} us: Node's floor (a bare proxy: no checks, retries, log or metrics) ${floorPeak.cpuUsPerReq.toFixed(0)} us, the event log ${(routerPeak.cpuUsPerReq - unloggedPeak.cpuUsPerReq).toFixed(0)} us, the rest ${(unloggedPeak.cpuUsPerReq - floorPeak.cpuUsPerReq).toFixed(0)} us; the floor alone would reach ${pct(nginxPeak.cpuUsPerReq / floorPeak.cpuUsPerReq)} of nginx`,
    `target (router >= 80% of nginx's throughput at equal p99): ${met ? "MET" : "NOT MET"}`,
  ].join("\n");
}

const children: ChildProcess[] = [];
let stopping = false;
const dir = await mkdtemp(join(tmpdir(), "bench-route-"));
try {
  const stubs = await startStubs();
  children.push(stubs.child);
  const config = {
    releases: [
      { id: "stable", role: "stable", upstreams: [stubs.urls[0], stubs.urls[1]], weight: 80 },
      { id: "canary", role: "canary", upstreams: [stubs.urls[2]], weight: 20 },
    ],
    eventLog: { path: join(dir, "router-events.log") },
  };
  const startRouter = async (name: string, routerConfig: object) => {
    await writeFile(join(dir, name), JSON.stringify(routerConfig));
    const started = await start(process.execPath, ["--import", "tsx", "packages/cli/src/main.ts", "route", "--config", join(dir, name), "--port", "0", "--host", "127.0.0.1"], /routing (\S+)/);
    children.push(started.child);
    return started;
  };
  const router = await startRouter("router.json", config);
  // The same router without its event log: what the log's two lines a request cost.
  const unlogged = await startRouter("router-unlogged.json", { ...config, eventLog: undefined });
  const nginx = await startNginx(join(dir, "nginx"), stubs.urls);
  if (nginx) children.push(nginx.child);
  const floor = await start(process.execPath, ["--import", "tsx", "bench/lib/node-floor-proxy.ts", "0", ...stubs.urls], /listening (\S+)/);
  children.push(floor.child);

  // After the proxies started, so they do not inherit the priority.
  const rt = (await realTime(process.pid)) && (await realTime(stubs.child.pid!));
  console.log(`bench/route: ${SECONDS} s per phase, ${CONNECTIONS} connections, ${USERS} users round-robin, ${ROUNDS} rounds; 1 router process, 1 nginx worker, 1 upstream process; load generator and upstreams ${rt ? "at real-time priority" : "at normal priority (chrt unavailable or --no-rt)"}; ${cpus().length} cores, load ${loadavg()[0].toFixed(2)}`);
  const direct: [string, string, number] = ["direct (one upstream)", stubs.urls[0], stubs.child.pid!];
  type Contender = [name: string, url: string, pid: number];
  const proxies: Contender[] = [["router (recsys route)", router.match, router.child.pid!]];
  if (nginx) proxies.push(["nginx (weighted upstream)", nginx.url, nginx.worker]);
  const contenders: Contender[] = [...proxies, ["router, event log off", unlogged.match, unlogged.child.pid!], ["Node's floor (bench/lib/node-floor-proxy.ts)", floor.match, floor.child.pid!]];
  for (const [, url] of [direct, ...contenders]) await run(url, 2); // warm-up: keep-alive pools, JIT
  console.log(row(`${direct[0]} peak`, await measure(direct[1], direct[2], SECONDS)));

  /** Runs `phase` for each of `among` in each round, alternating which goes first. */
  const inRounds = async <T>(among: Contender[], phase: (c: Contender, i: number) => Promise<T>, show: (i: number, round: number, r: T) => void): Promise<T[][]> => {
    const runs = among.map((): T[] => []);
    for (let round = 0; round < ROUNDS; round++) {
      const order = among.map((_, i) => i);
      if (round % 2 === 1) order.reverse();
      for (const i of order) {
        const r = await phase(among[i], i);
        runs[i].push(r);
        show(i, round, r);
      }
    }
    return runs;
  };

  const peaks = (await inRounds(contenders, ([, url, pid]) => measure(url, pid, SECONDS), (i, round, r) => console.log(row(`${contenders[i][0]} peak #${round + 1}`, r))))
    .map((runs) => median(runs, (r) => r.requests.average));
  for (const [i, [name]] of contenders.entries()) console.log(row(`${name} peak, median`, peaks[i]));
  const [routerPeak, unloggedPeak, floorPeak] = [peaks[0], ...peaks.slice(-2)];
  const nginxPeak = nginx ? peaks[1] : undefined;
  if (nginxPeak) {
    const points: Point[] = [];
    for (const share of RATE_SHARES) {
      const rate = Math.floor(nginxPeak.requests.average * share);
      const rates = [Math.floor(rate * ROUTER_SHARE), rate];
      const runs = await inRounds(proxies, ([, url, pid], i) => pace(url, pid, rates[i]), () => {});
      const [router, nginx] = runs.map((r) => median(r, (x) => x.latencyMs.p99));
      console.log(pacedRow(`${proxies[0][0]} @${rates[0]}/s`, router, runs[0]));
      console.log(pacedRow(`${proxies[1][0]} @${rates[1]}/s`, nginx, runs[1]));
      points.push({ share, router, nginx });
    }
    console.log(verdict(routerPeak, nginxPeak, unloggedPeak, floorPeak, points));
  }
} finally {
  stopping = true;
  for (const child of children) child.kill("SIGTERM");
  await new Promise((r) => setTimeout(r, 300));
  await rm(dir, { recursive: true, force: true });
}
