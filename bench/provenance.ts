/**
 * What logging provenance costs the API (issue 14: under 5% of its throughput and of its p99), and
 * what the response log weighs. Two `recsys serve` processes, started once and serving the same
 * synthetic 2k-movie model: one with the response log on, one with it off (`RECSYS_LOG_RESPONSES`).
 *
 * 1. Throughput: closed loop at full speed (autocannon, 16 connections) in short slices, the two
 *    alternating in ABBA order (on-off, off-on, ...), so both halves of a pair see the same machine
 *    (this shared 2-core machine flips between a ~14k and a ~28k req/s mode every few seconds: whole
 *    rounds of several seconds compared nothing). Per pair: the throughput ratio and each process's
 *    own CPU per request (/proc), read over the whole pair so a flush or rotation landing after the
 *    slice still counts.
 * 2. p99 at a fixed rate well below saturation (open loop, bench/lib/open-loop.ts, 2,000 req/s: the
 *    rate bench/route.ts holds the router's p99 to), the two alternating the same way.
 * 3. Bytes per response of the log as written: plain, gzipped as rotation keeps it, and what the
 *    lines would weigh with the commit, model and data hashes dropped (the release id kept as the key
 *    a manifest would resolve): the figure behind keeping the format unless that halves the size.
 *
 * The goal lines compare the median paired difference (interquartile range beside it) with 5%.
 * The synthetic model's movie ids are shorter than the course's title slugs, so the plain figure is
 * below a real log's. The load generator shares the machine's cores with the servers and with
 * whatever else runs: run it under `flock /tmp/recsys-bench.lock` on a quiet machine.
 *
 *     npx tsx bench/provenance.ts                               # 30 pairs of 1 s slices, 8 pairs of 5 s at 2,000 req/s
 *     npx tsx bench/provenance.ts --pairs 40 --slice 1 --rate 2000 --rate-pairs 10 --rate-seconds 5
 */
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { cpus, loadavg, tmpdir } from "node:os";
import { basename, join } from "node:path";
import { buffer } from "node:stream/consumers";
import { setTimeout as sleep } from "node:timers/promises";
import { parseArgs } from "node:util";
import { RESPONSE_FILE, gzipInMembers, writeSyntheticRecModel } from "@recsys/api";
import { csvField, openLogStream, splitCsvLine } from "@recsys/core";
import { Children, closedLoop, cpuSeconds, realTime } from "./lib/harness.ts";
import { runOpenLoop } from "./lib/open-loop.ts";

const { values: args } = parseArgs({ options: {
  pairs: { type: "string", default: "30" }, slice: { type: "string", default: "1" }, connections: { type: "string", default: "16" },
  rate: { type: "string", default: "2000" }, "rate-pairs": { type: "string", default: "8" }, "rate-seconds": { type: "string", default: "5" },
  "no-rt": { type: "boolean", default: false },
} });
const GOAL = 0.05;
const USERS = 5000;
/** Every other user id: half the requests' users are known to the model, all answers come from the cache after warm-up. */
const path = (i: number) => `/recommend/${(i % USERS) * 2}`;
/** The API's log flush interval (250 ms) and a margin: a slice's last lines are written before the next pair starts. */
const SETTLE_MS = 300;
/** Log bytes the size figures are computed on. */
const SAMPLE_BYTES = 64 << 20;

type Side = "on" | "off";
interface Api { url: string; pid: number }

/** q-quantile (linear between order statistics). */
function quantile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  const at = (s.length - 1) * q, lo = Math.floor(at);
  return s[lo]! + (s[Math.min(lo + 1, s.length - 1)]! - s[lo]!) * (at - lo);
}
const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
/** "median [q1, q3]" of paired differences, as percentages. */
const spread = (xs: number[]) => `${pct(quantile(xs, 0.5))} [IQR ${pct(quantile(xs, 0.25))}, ${pct(quantile(xs, 0.75))}]`;
/** ABBA: pair k runs "on" first when k is even. */
const orderOf = (k: number): Side[] => (k % 2 === 0 ? ["on", "off"] : ["off", "on"]);

const work = await mkdtemp(join(tmpdir(), "bench-provenance-"));
const children = new Children();
try {
  const model = join(work, "model"), logDir = join(work, "logs");
  await writeSyntheticRecModel(model, { movies: 2000, users: USERS, factors: 32, seenPerUser: 40, seed: 7 });
  process.env.RECSYS_GIT_COMMIT = "3f1c2a9b7d4e5f60718293a4b5c6d7e8f9012345"; // a full-length commit id, as deploy passes it
  const apis = {} as Record<Side, Api>;
  const exits: Array<Promise<unknown>> = [];
  for (const side of ["on", "off"] as const) {
    process.env.RECSYS_LOG_RESPONSES = side;
    const { child, match } = await children.start(process.execPath, ["--import", "tsx", "packages/cli/src/main.ts", "serve", "--model", model, "--port", "0", "--log-dir", join(logDir, side), "--release", "r-20261207-1512"], /^serving (http:\/\/\S+)/m);
    apis[side] = { url: match, pid: child.pid! };
    exits.push(new Promise((done) => child.once("exit", done)));
  }
  // After the APIs started, so they do not inherit the priority: the load generator then waits for no core.
  const rt = !args["no-rt"] && (await realTime(process.pid));
  const seconds = Number(args.slice), connections = Number(args.connections);
  console.log(`bench/provenance: ${cpus().length} cores, load ${loadavg().map((l) => l.toFixed(2)).join(" ")}; ${args.pairs} pairs of ${seconds} s closed-loop slices (${connections} connections), ${args["rate-pairs"]} pairs of ${args["rate-seconds"]} s at ${args.rate} req/s; load generator ${rt ? "at real-time priority" : "at normal priority"}`);
  for (const side of ["on", "off"] as const) await closedLoop(apis[side].url, { connections, seconds: 3, path }); // warm-up: cache, JIT

  // 1. Throughput and CPU per request, paired.
  const thr: Array<Record<Side, { rate: number; cpu: number }>> = [];
  for (let k = 0; k < Number(args.pairs); k++) {
    const cpuBefore = { on: await cpuSeconds(apis.on.pid), off: await cpuSeconds(apis.off.pid) };
    const requests = {} as Record<Side, number>;
    for (const side of orderOf(k)) {
      requests[side] = (await closedLoop(apis[side].url, { connections, seconds, path })).requests.total;
      await sleep(SETTLE_MS);
    }
    const pair = {} as (typeof thr)[number];
    for (const side of ["on", "off"] as const) {
      pair[side] = { rate: requests[side] / seconds, cpu: ((await cpuSeconds(apis[side].pid)) - cpuBefore[side]) * 1e6 / requests[side] };
    }
    thr.push(pair);
    console.log(`pair ${String(k + 1).padStart(2)} (${orderOf(k).join("-")})  on ${pair.on.rate.toFixed(0).padStart(6)} req/s ${pair.on.cpu.toFixed(1).padStart(5)} us/req   off ${pair.off.rate.toFixed(0).padStart(6)} req/s ${pair.off.cpu.toFixed(1).padStart(5)} us/req   on/off ${(pair.on.rate / pair.off.rate).toFixed(3)}`);
  }

  // 2. p99 at a fixed rate, paired.
  const p99: Array<Record<Side, number>> = [];
  for (let k = 0; k < Number(args["rate-pairs"]); k++) {
    const pair = {} as Record<Side, number>;
    let note = "";
    for (const side of orderOf(k)) {
      const r = await runOpenLoop({ url: apis[side].url, rate: Number(args.rate), seconds: Number(args["rate-seconds"]), connections, path });
      pair[side] = r.latencyMs.p99;
      if (r.failed > 0 || r.throughput < 0.98 * r.rate) note += ` (log ${side}: ${r.failed} failed, ${r.throughput.toFixed(0)} req/s answered)`;
    }
    p99.push(pair);
    console.log(`at ${args.rate} req/s, pair ${k + 1} (${orderOf(k).join("-")})  p99 on ${pair.on.toFixed(2)} ms, off ${pair.off.toFixed(2)} ms${note}`);
  }

  const loss = thr.map((p) => 1 - p.on.rate / p.off.rate);
  const cpuExtra = thr.map((p) => p.on.cpu / p.off.cpu - 1);
  const cpuUs = thr.map((p) => p.on.cpu - p.off.cpu);
  const p99Extra = p99.map((p) => p.on / p.off - 1);
  console.log(`throughput lost with the log, median of ${thr.length} pairs: ${spread(loss)}`);
  console.log(`API CPU per request added by the log: ${spread(cpuExtra)}, ${quantile(cpuUs, 0.5).toFixed(2)} us [IQR ${quantile(cpuUs, 0.25).toFixed(2)}, ${quantile(cpuUs, 0.75).toFixed(2)}] (off: median ${quantile(thr.map((p) => p.off.cpu), 0.5).toFixed(1)} us)`);
  console.log(`p99 added by the log at ${args.rate} req/s, median of ${p99.length} pairs: ${spread(p99Extra)} (median p99 on ${quantile(p99.map((p) => p.on), 0.5).toFixed(2)} ms, off ${quantile(p99.map((p) => p.off), 0.5).toFixed(2)} ms)`);
  for (const [what, xs] of [["throughput", loss], ["p99", p99Extra]] as const) {
    console.log(`goal: the log costs < 5% of ${what}: ${quantile(xs, 0.5) < GOAL ? "MET" : "NOT MET"} (median ${pct(quantile(xs, 0.5))}, upper quartile ${pct(quantile(xs, 0.75))})`);
  }
  await children.stopAll(); // SIGTERM: the API flushes its log on the way out
  await Promise.all(exits);

  // 3. The log as written (a rotated part gunzipped back), then compressed as rotation does: the
  // first SAMPLE_BYTES of it, whole lines (all of it would take gigabytes of memory as strings).
  const dir = join(logDir, "on");
  const files = (await readdir(dir)).filter((n) => RESPONSE_FILE.test(basename(n))).sort();
  const all = Buffer.concat(await Promise.all(files.slice(0, 2).map((f) => buffer(openLogStream(join(dir, f))))));
  const plain = all.subarray(0, all.lastIndexOf(0x0a, SAMPLE_BYTES) + 1);
  const gzipped = async (bytes: Buffer) => {
    let n = 0;
    for await (const member of gzipInMembers([bytes], { version: 1, gzBytes: 0, members: [] })) n += member.length;
    return n;
  };
  const lines = plain.toString("utf8").split("\n").filter((l) => l !== "" && !l.startsWith("time,"));
  // Columns: time,request_id,user_id,status,latency_ms,release,commit,model_hash,data_hash,result,explore_slots
  const trimmed = lines.map((l) => splitCsvLine(l).filter((_, i) => i < 6 || i > 8).map(csvField).join(",") + "\n").join("");
  const per = (bytes: number) => (bytes / lines.length).toFixed(1);
  console.log(`${lines.length} responses sampled from the log (${files.length} file(s))`);
  console.log(`format             plain B/response   gzip B/response`);
  console.log(`current            ${per(plain.length).padStart(16)}   ${per(await gzipped(plain)).padStart(15)}`);
  console.log(`release key only   ${per(Buffer.byteLength(trimmed)).padStart(16)}   ${per(await gzipped(Buffer.from(trimmed))).padStart(15)}`);
} finally {
  await children.stopAll();
  await rm(work, { recursive: true, force: true });
}
