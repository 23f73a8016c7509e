/**
 * Router overhead: throughput and p99 of GET /recommend/<user> straight to one upstream, through
 * the router (`recsys route`, one process, event log on), and through nginx with the same
 * weighted 20/40/40 sticky upstream and one worker (when nginx is installed), all in one run
 * against the same three stub upstream processes answering a fixed 20-id line, with the same
 * connections, phase length and user sequence. Router and nginx peaks are measured in
 * alternating order over several rounds (a shared machine's load drifts) and the medians
 * compared. Then both are driven at the same fixed rates, 50%, 65% and 80% of nginx's median
 * peak, to compare p99 at equal load. Target: the router keeps >= 80% of nginx's throughput at equal p99; the
 * last line says whether this run met it. Beside each figure: the CPU time the proxying process
 * itself spent per request (from /proc, Linux only), which a machine shared with other work
 * disturbs far less than throughput does; their ratio is the share the router would reach if
 * both were bound by their own CPU.
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
import { spawnStubUpstream, type SpawnedStub } from "@recsys/router";

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
/** Fixed rates as shares of nginx's median peak; the target is judged at the last one. */
const RATE_SHARES = [0.5, 0.65, 0.8];

const { values: args } = parseArgs({ options: {
  seconds: { type: "string", default: "8" }, connections: { type: "string", default: "32" }, rounds: { type: "string", default: "3" },
} });
const SECONDS = Number(args.seconds);
const CONNECTIONS = Number(args.connections);
const ROUNDS = Math.max(1, Number(args.rounds));

async function run(url: string, seconds: number, rate?: number): Promise<CannonResult> {
  let n = 0;
  return autocannon({
    url, connections: CONNECTIONS, duration: seconds, overallRate: rate,
    requests: [{ method: "GET", setupRequest: (req: { path: string }) => { req.path = `/recommend/${(n++ % USERS) + 1}`; return req; } }],
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
    child.once("exit", (code) => reject(new Error(`${cmd} exited (${code}): ${err.trim().slice(0, 300)}`)));
    if (!ready) return setTimeout(() => resolve({ child, match: "" }), 500);
    let out = "";
    child.stdout!.on("data", (c: Buffer) => {
      out += c.toString();
      const m = ready.exec(out);
      if (m) resolve({ child, match: m[1] });
    });
  });
}

async function startNginx(dir: string, stubs: SpawnedStub[]): Promise<{ child: ChildProcess; url: string; worker: number } | null> {
  const port = await freePort();
  const hostPort = (u: string) => u.replace("http://", "");
  const vars: Record<string, string> = { PORT: String(port), CANARY: hostPort(stubs[2].url), STABLE_1: hostPort(stubs[0].url), STABLE_2: hostPort(stubs[1].url) };
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

/** Runs one phase and measures the CPU that `pid` (the process under test) spent on it. */
async function measure(url: string, pid: number, seconds: number, rate?: number): Promise<Measured> {
  const before = await cpuSeconds(pid);
  const r = await run(url, seconds, rate);
  const cpu = (await cpuSeconds(pid)) - before;
  return { ...r, cpuUsPerReq: (cpu * 1e6) / Math.max(1, r.requests.total) };
}

/** The run with the median throughput (its p99 and CPU come with it). */
function median(runs: Measured[]): Measured {
  return [...runs].sort((a, b) => a.requests.average - b.requests.average)[(runs.length - 1) >> 1];
}

function row(name: string, r: Measured): string {
  const bad = r.errors + r.timeouts + r.non2xx;
  const cpu = Number.isNaN(r.cpuUsPerReq) ? "" : `   cpu ${r.cpuUsPerReq.toFixed(0).padStart(3)} us/req`;
  return `${name.padEnd(40)} ${r.requests.average.toFixed(0).padStart(7)} req/s   p50 ${String(r.latency.p50).padStart(4)} ms   p99 ${String(r.latency.p99).padStart(4)} ms   failed ${bad}${cpu}`;
}

/** Served at least 98% of the offered rate. */
const keepsUp = (r: Measured, rate: number): boolean => r.requests.average >= 0.98 * rate;

/**
 * The target lines. Met when the router's median peak is >= 80% of nginx's and, driven at 80% of
 * nginx's peak rate, it keeps up (>= 98% of the rate) with a p99 no worse than nginx's there
 * (+1 ms: autocannon reports whole milliseconds).
 */
function verdict(routerPeak: Measured, nginxPeak: Measured, rate: number, routerAt: Measured, nginxAt: Measured): string {
  const pct = (x: number) => `${(x * 100).toFixed(0)}%`;
  const share = routerPeak.requests.average / nginxPeak.requests.average;
  const met = share >= 0.8 && keepsUp(routerAt, rate) && routerAt.latency.p99 <= nginxAt.latency.p99 + 1;
  return [
    `router peak = ${pct(share)} of nginx's (medians of ${ROUNDS}); at ${rate}/s the router served ${routerAt.requests.average.toFixed(0)}/s with p99 ${routerAt.latency.p99} ms, nginx ${nginxAt.requests.average.toFixed(0)}/s with p99 ${nginxAt.latency.p99} ms`,
    `CPU per request (median runs): router ${routerPeak.cpuUsPerReq.toFixed(0)} us, nginx ${nginxPeak.cpuUsPerReq.toFixed(0)} us; each bound by its own CPU, the router would reach ${pct(nginxPeak.cpuUsPerReq / routerPeak.cpuUsPerReq)} of nginx`,
    `target (router >= 80% of nginx's throughput at equal p99): ${met ? "MET" : "NOT MET"}`,
  ].join("\n");
}

const children: ChildProcess[] = [];
const dir = await mkdtemp(join(tmpdir(), "bench-route-"));
try {
  const stubs = await Promise.all(["stable-1", "stable-2", "canary"].map((name) => spawnStubUpstream({ name })));
  children.push(...stubs.map((s) => s.child));
  const config = {
    releases: [
      { id: "stable", role: "stable", upstreams: [stubs[0].url, stubs[1].url], weight: 80 },
      { id: "canary", role: "canary", upstreams: [stubs[2].url], weight: 20 },
    ],
    eventLog: { path: join(dir, "router-events.log") },
  };
  await writeFile(join(dir, "router.json"), JSON.stringify(config));
  const router = await start(process.execPath, ["--import", "tsx", "packages/cli/src/main.ts", "route", "--config", join(dir, "router.json"), "--port", "0", "--host", "127.0.0.1"], /routing (\S+)/);
  children.push(router.child);
  const nginx = await startNginx(join(dir, "nginx"), stubs);
  if (nginx) children.push(nginx.child);

  console.log(`bench/route: ${SECONDS} s per phase, ${CONNECTIONS} connections, ${USERS} users round-robin, ${ROUNDS} rounds; 1 router process, 1 nginx worker; ${cpus().length} cores, load ${loadavg()[0].toFixed(2)}`);
  const direct: [string, string, number] = ["direct (one upstream)", stubs[0].url, stubs[0].child.pid!];
  const proxies: [string, string, number][] = [["router (recsys route)", router.match, router.child.pid!]];
  if (nginx) proxies.push(["nginx (weighted upstream)", nginx.url, nginx.worker]);
  for (const [, url] of [direct, ...proxies]) await run(url, 2); // warm-up: keep-alive pools, JIT
  console.log(row(`${direct[0]} peak`, await measure(direct[1], direct[2], SECONDS)));

  const peaks = proxies.map((): Measured[] => []);
  for (let round = 0; round < ROUNDS; round++) {
    const order = proxies.map((_, i) => i);
    if (round % 2 === 1) order.reverse();
    for (const i of order) {
      const [name, url, pid] = proxies[i];
      const r = await measure(url, pid, SECONDS);
      peaks[i].push(r);
      console.log(row(`${name} peak #${round + 1}`, r));
    }
  }
  const [routerPeak, nginxPeak] = peaks.map(median);
  for (const [i, [name]] of proxies.entries()) console.log(row(`${name} peak, median`, [routerPeak, nginxPeak][i]));
  if (nginxPeak) {
    // A short latency curve: both driven at the same fixed rates, the last one the target's 80%.
    const points: { share: number; rate: number; router: Measured; nginx: Measured }[] = [];
    for (const share of RATE_SHARES) {
      const rate = Math.floor(nginxPeak.requests.average * share);
      const [router, nginx] = [await measure(proxies[0][1], proxies[0][2], SECONDS, rate), await measure(proxies[1][1], proxies[1][2], SECONDS, rate)];
      console.log(row(`${proxies[0][0]} @${rate}/s`, router));
      console.log(row(`${proxies[1][0]} @${rate}/s`, nginx));
      points.push({ share, rate, router, nginx });
    }
    const matched = points.filter((p) => keepsUp(p.router, p.rate) && p.router.latency.p99 <= p.nginx.latency.p99 + 1);
    console.log(`router keeps nginx's p99 (+1 ms) at ${matched.length ? matched.map((p) => `${Math.round(p.share * 100)}%`).join(", ") : "none"} of nginx's peak rate (tried ${RATE_SHARES.map((x) => `${x * 100}%`).join(", ")})`);
    const last = points[points.length - 1];
    console.log(verdict(routerPeak, nginxPeak, last.rate, last.router, last.nginx));
  }
} finally {
  for (const child of children) child.kill("SIGTERM");
  await new Promise((r) => setTimeout(r, 300));
  await rm(dir, { recursive: true, force: true });
}
