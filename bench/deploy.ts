/**
 * A full canary cycle on real processes under steady load: how long each phase takes (replica
 * start, analysis until a verdict, promote, rollback) and what the users saw meanwhile (failed
 * responses, p50/p99 through the router). Figures only, no assertions.
 * Run: npx tsx bench/deploy.ts [rate=50] [replicas=2]
 */
import { join } from "node:path";
import { createFaultyDriver, createProcessDriver, startPlatform } from "@recsys/deploy";
import { USERS, tempDir, writeTestModel } from "../packages/deploy/test/fixtures.ts";
import { Agent, request } from "node:http";

const rate = Number(process.argv[2] ?? 50);
const replicas = Number(process.argv[3] ?? 2);

/** Steady load that keeps every latency, so each phase gets its own quantiles. */
function load(url: string) {
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });
  const samples: { t: number; ms: number; ok: boolean }[] = [];
  let n = 0;
  const timer = setInterval(() => {
    const t0 = performance.now();
    const req = request(`${url}/recommend/${1 + ((n++ * 7919) % (USERS + 10))}`, { agent, timeout: 800 }, (res) => {
      res.resume();
      res.on("end", () => samples.push({ t: Date.now(), ms: performance.now() - t0, ok: res.statusCode === 200 }));
    });
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", () => samples.push({ t: Date.now(), ms: performance.now() - t0, ok: false }));
    req.end();
  }, 1000 / rate);
  return { samples, stop: () => { clearInterval(timer); agent.destroy(); } };
}

function describe(label: string, s: { ms: number; ok: boolean }[]): string {
  const ms = s.map((x) => x.ms).sort((a, b) => a - b);
  const q = (p: number) => (ms.length ? ms[Math.min(ms.length - 1, Math.ceil(p * ms.length) - 1)]!.toFixed(1) : "n/a");
  return `${label}: ${s.length} requests, ${s.filter((x) => !x.ok).length} failed, p50 ${q(0.5)} ms, p99 ${q(0.99)} ms`;
}

const root = await tempDir("bench");
const logDir = join(root, "replicas");
const driver = createFaultyDriver(createProcessDriver({ logDir }), { logDir, faultsFor: (spec) => (spec.modelDir.endsWith("bad") ? { errorRate: 0.3 } : null) });
let t = Date.now();
const platform = await startPlatform({ modelDir: await writeTestModel(join(root, "m1"), 1), driver, stateDir: join(root, "state"), replicas });
console.log(`platform up (${replicas} replicas + router): ${Date.now() - t} ms`);
const traffic = load(platform.routerUrl);
const phases: [string, number, number][] = [];
const options = { canaryWeight: 20, intervalMs: 1000, drainMs: 300, canary: { minRequests: 100, minRequestsForRollback: 50 } };
for (const [name, model] of [["promote", "m2"], ["rollback", "m3-bad"]] as const) {
  const lines: string[] = [];
  t = Date.now();
  const record = await platform.deploy(await writeTestModel(join(root, model), name === "promote" ? 2 : 3), { ...options, log: (l) => lines.push(`${Date.now() - t} ms ${l.slice(0, 110)}`) });
  phases.push([name, t, Date.now()]);
  console.log(`${name}: ${record.verdict} in ${Date.now() - t} ms (canary live at +${Date.parse(record.canaryAt!) - t} ms, decided at +${Date.parse(record.decidedAt!) - t} ms)`);
  for (const l of lines) console.log(`  ${l}`);
}
traffic.stop();
await new Promise((r) => setTimeout(r, 900));
for (const [name, from, to] of phases) console.log(describe(`during ${name}`, traffic.samples.filter((s) => s.t >= from && s.t <= to)));
console.log(describe("whole run", traffic.samples));
await platform.stop();
