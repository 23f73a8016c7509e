/**
 * Router overhead: throughput and p99 of GET /recommend/<user> straight to one upstream, through
 * the router (`recsys route`, its own process, event log on), and through nginx with the same
 * weighted 20/40/40 sticky upstream (when nginx is installed), all in one run against the same
 * three stub upstream processes answering a fixed 20-id line. Each target is first driven to
 * saturation at a fixed connection count; then router and nginx are driven at the same fixed
 * rate (80% of nginx's peak) to compare p99 at equal load. Target: the router keeps >= 80% of
 * nginx's throughput at equal p99. Beside each figure: the CPU time the proxying process itself
 * spent per request (from /proc, Linux only), which a machine shared with other work disturbs
 * far less than throughput does. Timings depend on the machine and its load: read them as
 * figures, not verdicts.
 *
 *     npx tsx bench/route.ts                              # 8 s per phase, 32 connections
 *     npx tsx bench/route.ts --seconds 5 --connections 64
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { createServer } from "node:net";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { spawnStubUpstream, type SpawnedStub } from "../packages/router/src/index.ts";

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

const { values: args } = parseArgs({ options: { seconds: { type: "string", default: "8" }, connections: { type: "string", default: "32" } } });
const SECONDS = Number(args.seconds);
const CONNECTIONS = Number(args.connections);

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

/** Runs one phase and measures the CPU that `pid` (the process under test) spent on it. */
async function measure(url: string, pid: number, seconds: number, rate?: number): Promise<CannonResult & { cpuUsPerReq: number }> {
  const before = await cpuSeconds(pid);
  const r = await run(url, seconds, rate);
  const cpu = (await cpuSeconds(pid)) - before;
  return { ...r, cpuUsPerReq: (cpu * 1e6) / Math.max(1, r.requests.total) };
}

function row(name: string, r: CannonResult & { cpuUsPerReq: number }): string {
  const bad = r.errors + r.timeouts + r.non2xx;
  const cpu = Number.isNaN(r.cpuUsPerReq) ? "" : `   cpu ${r.cpuUsPerReq.toFixed(0).padStart(3)} us/req`;
  return `${name.padEnd(34)} ${r.requests.average.toFixed(0).padStart(7)} req/s   p50 ${String(r.latency.p50).padStart(4)} ms   p99 ${String(r.latency.p99).padStart(4)} ms   failed ${bad}${cpu}`;
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

  console.log(`bench/route: ${SECONDS} s per phase, ${CONNECTIONS} connections, ${USERS} users round-robin; ${cpus().length} cores, load ${loadavg()[0].toFixed(2)}`);
  const targets: [string, string, number][] = [["direct (one upstream)", stubs[0].url, stubs[0].child.pid!], ["router (recsys route)", router.match, router.child.pid!]];
  if (nginx) targets.push(["nginx (weighted upstream)", nginx.url, nginx.worker]);
  const peak = new Map<string, CannonResult>();
  for (const [name, url, pid] of targets) {
    await run(url, 2); // warm-up: keep-alive pools, JIT
    const r = await measure(url, pid, SECONDS);
    peak.set(name, r);
    console.log(row(`${name} peak`, r));
  }
  const routerPeak = peak.get("router (recsys route)")!;
  if (nginx) {
    const nginxPeak = peak.get("nginx (weighted upstream)")!;
    const rate = Math.floor(nginxPeak.requests.average * 0.8);
    const atRate = new Map<string, CannonResult>();
    for (const [name, url, pid] of targets.slice(1)) {
      const r = await measure(url, pid, SECONDS, rate);
      atRate.set(name, r);
      console.log(row(`${name} @${rate}/s`, r));
    }
    const share = routerPeak.requests.average / nginxPeak.requests.average;
    const rr = atRate.get("router (recsys route)")!;
    const nr = atRate.get("nginx (weighted upstream)")!;
    console.log(`router peak throughput = ${(share * 100).toFixed(0)}% of nginx (target >= 80%); at ${rate}/s (80% of nginx peak): router p99 ${rr.latency.p99} ms, nginx p99 ${nr.latency.p99} ms, router served ${rr.requests.average.toFixed(0)}/s`);
  }
  const direct = peak.get("direct (one upstream)")!;
  console.log(`router overhead vs direct: throughput ${((routerPeak.requests.average / direct.requests.average) * 100).toFixed(0)}%, p99 +${routerPeak.latency.p99 - direct.latency.p99} ms`);
} finally {
  for (const child of children) child.kill("SIGTERM");
  await new Promise((r) => setTimeout(r, 300));
  await rm(dir, { recursive: true, force: true });
}
