/**
 * Serving speed of `recsys serve` (its own process, response log on) under autocannon on
 * loopback: a 2k-movie model (5k users) and a 20k-movie model (50k users), k = 64, each
 * cached (a fixed set of users, answered from the LRU after the warm-up) and uncached (cache
 * off, every request scores the catalogue for a known user), at saturation and at a fixed
 * 1,000 req/s. Saturation runs use autocannon (closed loop); latency percentiles are exact,
 * from every response's time (autocannon's own histogram has 1 ms resolution). The fixed-rate
 * run is open loop, paced here: autocannon's rate limit lets each connection send its whole
 * per-second quota back to back at the start of each second, which measures bursts, not a
 * steady 1,000 req/s. The pacer sends request n at start + n ms (1 ms ticks) over keep-alive
 * sockets whatever the answers do (open loop: a slow server cannot slow the sender, so no
 * coordinated omission) and times each from its send. Fixed-rate rows also give the server's
 * own p99 from its /metrics histogram (the bucket bound it falls in), which leaves out the
 * client and the OS scheduler. The load generator shares the machine's cores with the server
 * and with whatever else runs, so read the figures as this machine's at its load (printed).
 *
 *     npx tsx bench/serve.ts                  # 8 s per run
 *     npx tsx bench/serve.ts --seconds 4 --connections 16
 */
import { spawn, type ChildProcess } from "node:child_process";
import { Agent, get } from "node:http";
import { mkdtemp, rm } from "node:fs/promises";
import { createRequire } from "node:module";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { writeSyntheticRecModel } from "@recsys/api";

interface CannonResult {
  errors: number;
  timeouts: number;
  non2xx: number;
}
interface CannonInstance extends Promise<CannonResult> {
  on(event: "response", fn: (client: unknown, status: number, bytes: number, ms: number) => void): void;
}
// autocannon ships no types; this is the slice of its API used here.
const autocannon = createRequire(import.meta.url)("autocannon") as (opts: Record<string, unknown>) => CannonInstance;

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const { values: args } = parseArgs({ options: { seconds: { type: "string", default: "8" }, connections: { type: "string", default: "16" } } });
const SECONDS = Number(args.seconds);
const CONNECTIONS = Number(args.connections);
const TARGETS = { p99AtFixedRateMs: 10, saturationRps: 5000 };

interface Server { url: string; child: ChildProcess; startupMs: number }

async function startServer(model: string, logDir: string, cached: boolean): Promise<Server> {
  const t0 = performance.now();
  const child = spawn(process.execPath, ["--import", "tsx", join(ROOT, "packages/cli/src/main.ts"), "serve", "--model", model, "--port", "0", "--log-dir", logDir, "--release", "bench"], {
    env: { ...process.env, RECSYS_GIT_COMMIT: "bench", RECSYS_CACHE_SIZE: cached ? "100000" : "0" },
    stdio: ["ignore", "pipe", "inherit"],
  });
  const url = await new Promise<string>((ok, fail) => {
    let out = "";
    child.stdout!.on("data", (d) => {
      out += d;
      const m = /^serving (http:\/\/\S+)/m.exec(out);
      if (m) ok(m[1]!);
    });
    child.once("exit", (code) => fail(new Error(`server exited with ${code}`)));
  });
  return { url, child, startupMs: performance.now() - t0 };
}

async function stopServer(s: Server): Promise<void> {
  const exited = new Promise((r) => s.child.once("exit", r));
  s.child.kill("SIGTERM");
  await exited;
}

interface Run { rps: number; p50: number; p99: number; p999: number; failed: number; serverP99?: string }

function summarise(times: number[], seconds: number, failed: number): Run {
  times.sort((a, b) => a - b);
  const pct = (p: number) => times[Math.min(times.length - 1, Math.floor(p * times.length))] ?? NaN;
  return { rps: times.length / seconds, p50: pct(0.5), p99: pct(0.99), p999: pct(0.999), failed };
}

/** Closed-loop saturation with autocannon; users round-robin from `userIds`. */
async function saturate(url: string, userIds: number[], seconds: number): Promise<Run> {
  let next = 0;
  const times: number[] = [];
  const instance = autocannon({
    url, connections: CONNECTIONS, duration: seconds,
    requests: [{ setupRequest: (req: { path: string }) => ({ ...req, path: `/recommend/${userIds[next++ % userIds.length]}` }) }],
  });
  instance.on("response", (_c, status, _b, ms) => status === 200 && times.push(ms));
  const r = await instance;
  return summarise(times, seconds, r.errors + r.timeouts + r.non2xx);
}

/** Open-loop fixed rate: request n is due at start + n/rate s and timed from then. */
async function paced(url: string, userIds: number[], seconds: number, rate: number): Promise<Run> {
  const { hostname, port } = new URL(url);
  const agent = new Agent({ keepAlive: true, maxSockets: 256 });
  const total = seconds * rate;
  const times: number[] = [];
  let failed = 0, sent = 0;
  const before = await recommendBuckets(url);
  const start = performance.now();
  await new Promise<void>((resolve) => {
    const settle = () => times.length + failed === total && resolve();
    const fire = (n: number) => {
      const sentAt = performance.now();
      get({ agent, hostname, port, path: `/recommend/${userIds[n % userIds.length]}` }, (res) => {
        res.resume();
        res.on("end", () => {
          if (res.statusCode === 200) times.push(performance.now() - sentAt);
          else failed++;
          settle();
        });
      }).on("error", () => {
        failed++;
        settle();
      });
    };
    const tick = () => {
      const dueNow = Math.min(total, Math.floor(((performance.now() - start) * rate) / 1000) + 1);
      while (sent < dueNow) fire(sent++);
      if (sent < total) setTimeout(tick, 1);
    };
    tick();
  });
  const elapsed = (performance.now() - start) / 1000;
  agent.destroy();
  const after = await recommendBuckets(url);
  return { ...summarise(times, elapsed, failed), serverP99: bucketOf(0.99, before, after) };
}

/** Cumulative counts of the server's recommend latency histogram, by bucket bound (s). */
async function recommendBuckets(url: string): Promise<Map<string, number>> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const out = new Map<string, number>();
  for (const m of text.matchAll(/^recsys_api_request_duration_seconds_bucket\{le="([^"]+)",route="recommend"\} (\d+)/gm)) out.set(m[1]!, Number(m[2]));
  return out;
}

/** The smallest bucket bound holding quantile q of the requests between two scrapes. */
function bucketOf(q: number, before: Map<string, number>, after: Map<string, number>): string {
  const total = (after.get("+Inf") ?? 0) - (before.get("+Inf") ?? 0);
  for (const [le, count] of after) if (count - (before.get(le) ?? 0) >= q * total) return le === "+Inf" ? "> 2 s" : `<= ${Number(le) * 1000} ms`;
  return "n/a";
}

const fmt = (ms: number) => ms.toFixed(2).padStart(7);
function row(label: string, r: Run): string {
  const server = r.serverP99 ? `  (server-side p99 ${r.serverP99})` : "";
  return `${label.padEnd(34)} ${r.rps.toFixed(0).padStart(7)} req/s  p50 ${fmt(r.p50)}  p99 ${fmt(r.p99)}  p99.9 ${fmt(r.p999)} ms  failed ${r.failed}${server}`;
}

const work = await mkdtemp(join(tmpdir(), "bench-serve-"));
const results: Record<string, Run> = {};
try {
  console.log(`bench/serve: ${cpus().length} cores, load ${loadavg().map((l) => l.toFixed(2)).join(" ")}, ${SECONDS} s per run, ${CONNECTIONS} connections`);
  for (const spec of [{ name: "2k", movies: 2000, users: 5000 }, { name: "20k", movies: 20_000, users: 50_000 }]) {
    const dir = join(work, `model-${spec.name}`);
    await writeSyntheticRecModel(dir, { movies: spec.movies, users: spec.users, factors: 64, seenPerUser: 40, seed: 7 });
    const known = Array.from({ length: spec.users }, (_, u) => 2 * u);
    for (const cached of [true, false]) {
      const server = await startServer(dir, join(work, "logs"), cached);
      const users = cached ? known.slice(0, 2000) : known;
      await saturate(server.url, users, 2); // warm-up: JIT, and the cache for the cached runs
      const label = `${spec.name} movies, ${cached ? "cached" : "uncached"}`;
      results[`${label} saturation`] = await saturate(server.url, users, SECONDS);
      console.log(row(`${label}, saturation`, results[`${label} saturation`]!) + `  [startup ${server.startupMs.toFixed(0)} ms]`);
      results[`${label} 1000`] = await paced(server.url, users, SECONDS, 1000);
      const over = results[`${label} saturation`]!.rps < 1000 ? "  [over capacity: the queue grows for the whole run]" : "";
      console.log(row(`${label}, 1,000 req/s`, results[`${label} 1000`]!) + over);
      await stopServer(server);
    }
  }
  console.log("\ntargets (2k-movie model):");
  for (const mode of ["cached", "uncached"]) {
    const sat = results[`2k movies, ${mode} saturation`]!, fixed = results[`2k movies, ${mode} 1000`]!;
    console.log(`  ${mode.padEnd(8)} saturation >= ${TARGETS.saturationRps} req/s: measured ${sat.rps.toFixed(0)} ${sat.rps >= TARGETS.saturationRps ? "MET" : "MISSED"}`);
    console.log(`  ${mode.padEnd(8)} p99 at 1,000 req/s < ${TARGETS.p99AtFixedRateMs} ms: measured ${fixed.p99.toFixed(2)} ms ${fixed.p99 < TARGETS.p99AtFixedRateMs ? "MET" : "MISSED"}`);
  }
} finally {
  await rm(work, { recursive: true, force: true });
}
