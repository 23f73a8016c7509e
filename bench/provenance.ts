/**
 * Bytes per response of the API's response log, as `recsys serve` writes it under load: plain
 * (the file being written), gzipped (what rotation keeps: 1 MiB members at the API's level), and what the same lines would weigh with the commit, model and data hashes dropped
 * (the release id kept as the key a manifest would resolve): the figure behind the choice not to
 * change the format unless that halves the size. Then the API's throughput and latency with the
 * log on and off (`RECSYS_LOG_RESPONSES`), alternating, closed loop. Serves a synthetic 2k-movie model (its movie
 * ids are shorter than the course's title slugs, so the plain figure is below a real log's).
 * The load generator shares the machine's cores with the server and with whatever else runs.
 *
 *     npx tsx bench/provenance.ts                 # 2 rounds of 4 s of load each way
 *     npx tsx bench/provenance.ts --seconds 5 --rounds 3
 */
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { cpus, loadavg, tmpdir } from "node:os";
import { basename, join } from "node:path";
import { buffer } from "node:stream/consumers";
import { parseArgs } from "node:util";
import { RESPONSE_FILE, gzipInMembers, writeSyntheticRecModel } from "@recsys/api";
import { csvField, openLogStream, splitCsvLine } from "@recsys/core";
import { Children, closedLoop, withCpu } from "./lib/harness.ts";

const { values: args } = parseArgs({ options: { seconds: { type: "string", default: "4" }, connections: { type: "string", default: "16" }, rounds: { type: "string", default: "2" } } });
const work = await mkdtemp(join(tmpdir(), "bench-provenance-"));
try {
  console.log(`bench/provenance: ${cpus().length} cores, load ${loadavg().map((l) => l.toFixed(2)).join(" ")}, ${args.seconds} s of load`);
  const model = join(work, "model"), logDir = join(work, "logs");
  await writeSyntheticRecModel(model, { movies: 2000, users: 5000, factors: 32, seenPerUser: 40, seed: 7 });
  process.env.RECSYS_GIT_COMMIT = "3f1c2a9b7d4e5f60718293a4b5c6d7e8f9012345"; // a full-length commit id, as deploy passes it
  // Logging on and off alternate (on, off, on, off, ...) so a change in the machine's load hits
  // both; beside throughput and latency, the API process's own CPU per request, which the load
  // generator sharing the cores disturbs far less.
  const rows: string[] = [];
  const measured: Record<"on" | "off", Array<{ rate: number; p99: number; cpu: number }>> = { on: [], off: [] };
  const order = Array.from({ length: 2 * Number(args.rounds) }, (_, i) => (i % 2 === 0 ? "on" : "off") as "on" | "off");
  for (const [round, logging] of order.entries()) {
    process.env.RECSYS_LOG_RESPONSES = logging;
    const runChildren = new Children();
    let exited: Promise<unknown> = Promise.resolve();
    const r = await (async () => {
      const { child, match: url } = await runChildren.start(process.execPath, ["--import", "tsx", "packages/cli/src/main.ts", "serve", "--model", model, "--port", "0", "--log-dir", join(logDir, String(round)), "--release", "r-20261207-1512"], /^serving (http:\/\/\S+)/m);
      exited = new Promise((done) => child.once("exit", done));
      return withCpu(child.pid!, () => closedLoop(url, { connections: Number(args.connections), seconds: Number(args.seconds), path: (i) => `/recommend/${(i % 5000) * 2}` }), (m) => m.requests.total);
    })().finally(() => runChildren.stopAll()); // SIGTERM: the API flushes its log on the way out
    await exited;
    measured[logging].push({ rate: r.requests.average, p99: r.latency.p99, cpu: r.cpuUsPerReq });
    rows.push(`log ${logging.padEnd(3)}  ${r.requests.average.toFixed(0).padStart(6)} req/s   p50 ${r.latency.p50} ms   p99 ${r.latency.p99} ms   ${r.errors + r.timeouts + r.non2xx} failed   api cpu ${r.cpuUsPerReq.toFixed(1)} us/req`);
  }
  console.log(rows.join("\n"));
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const on = { rate: median(measured.on.map((m) => m.rate)), p99: median(measured.on.map((m) => m.p99)), cpu: median(measured.on.map((m) => m.cpu)) };
  const off = { rate: median(measured.off.map((m) => m.rate)), p99: median(measured.off.map((m) => m.p99)), cpu: median(measured.off.map((m) => m.cpu)) };
  console.log(`medians, log on vs off: ${on.rate.toFixed(0)} vs ${off.rate.toFixed(0)} req/s (${(100 * (1 - on.rate / off.rate)).toFixed(1)}% fewer), p99 ${on.p99} vs ${off.p99} ms, API CPU ${on.cpu.toFixed(1)} vs ${off.cpu.toFixed(1)} us a request (logging ${(on.cpu - off.cpu).toFixed(1)} us, ${(100 * (on.cpu / off.cpu - 1)).toFixed(1)}%)`);

  // The logs as written (a rotated part gunzipped back), then compressed as rotation does.
  const files = (await readdir(logDir, { recursive: true })).filter((n) => RESPONSE_FILE.test(basename(n)));
  const plain = Buffer.concat(await Promise.all(files.map((f) => buffer(openLogStream(join(logDir, f))))));
  const gzipped = async (bytes: Buffer) => {
    let n = 0;
    for await (const member of gzipInMembers([bytes], { version: 1, gzBytes: 0, members: [] })) n += member.length;
    return n;
  };
  const lines = plain.toString("utf8").split("\n").filter((l) => l !== "" && !l.startsWith("time,"));
  // Columns: time,request_id,user_id,status,latency_ms,release,commit,model_hash,data_hash,result,explore_slots
  const trimmed = lines.map((l) => splitCsvLine(l).filter((_, i) => i < 6 || i > 8).map(csvField).join(",") + "\n").join("");
  const per = (bytes: number) => (bytes / lines.length).toFixed(1);
  console.log(`${lines.length} responses logged in ${files.length} file(s) by the two runs with logging on`);
  console.log(`format             plain B/response   gzip B/response`);
  console.log(`current            ${per(plain.length).padStart(16)}   ${per(await gzipped(plain)).padStart(15)}`);
  console.log(`release key only   ${per(Buffer.byteLength(trimmed)).padStart(16)}   ${per(await gzipped(Buffer.from(trimmed))).padStart(15)}`);
} finally {
  await rm(work, { recursive: true, force: true });
}
