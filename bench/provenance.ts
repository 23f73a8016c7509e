/**
 * Bytes per response of the API's response log, as `recsys serve` writes it under load: plain
 * (the file being written), gzipped (what rotation keeps, compressed with zlib's defaults as the
 * API does), and what the same lines would weigh with the commit, model and data hashes dropped
 * (the release id kept as the key a manifest would resolve): the figure behind the choice not to
 * change the format unless that halves the size. Serves a synthetic 2k-movie model (its movie
 * ids are shorter than the course's title slugs, so the plain figure is below a real log's).
 * The load generator shares the machine's cores with the server and with whatever else runs.
 *
 *     npx tsx bench/provenance.ts                 # 4 s of load
 *     npx tsx bench/provenance.ts --seconds 8
 */
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { gzipSync } from "node:zlib";
import { writeSyntheticRecModel } from "@recsys/api";
import { splitCsvLine, csvField } from "@recsys/core";
import { Children, closedLoop } from "./lib/harness.ts";

const { values: args } = parseArgs({ options: { seconds: { type: "string", default: "4" }, connections: { type: "string", default: "16" } } });
const work = await mkdtemp(join(tmpdir(), "bench-provenance-"));
const children = new Children();
try {
  console.log(`bench/provenance: ${cpus().length} cores, load ${loadavg().map((l) => l.toFixed(2)).join(" ")}, ${args.seconds} s of load`);
  const model = join(work, "model"), logDir = join(work, "logs");
  await writeSyntheticRecModel(model, { movies: 2000, users: 5000, factors: 32, seenPerUser: 40, seed: 7 });
  process.env.RECSYS_GIT_COMMIT = "3f1c2a9b7d4e5f60718293a4b5c6d7e8f9012345"; // a full-length commit id, as deploy passes it
  const { child, match: url } = await children.start(process.execPath, ["--import", "tsx", "packages/cli/src/main.ts", "serve", "--model", model, "--port", "0", "--log-dir", logDir, "--release", "r-20261207-1512"], /^serving (http:\/\/\S+)/m);
  const load = await closedLoop(url, { connections: Number(args.connections), seconds: Number(args.seconds), path: (i) => `/recommend/${(i % 5000) * 2}` });
  const exited = new Promise((r) => child.once("exit", r));
  await children.stopAll(); // SIGTERM: the API flushes its log on the way out
  await exited;

  const files = (await readdir(logDir)).filter((n) => n.startsWith("responses-"));
  const plain = Buffer.concat(await Promise.all(files.map((f) => readFile(join(logDir, f)))));
  const lines = plain.toString("utf8").split("\n").filter((l) => l !== "" && !l.startsWith("time,"));
  // Columns: time,request_id,user_id,status,latency_ms,release,commit,model_hash,data_hash,result,explore_slots
  const trimmed = lines.map((l) => splitCsvLine(l).filter((_, i) => i < 6 || i > 8).map(csvField).join(",") + "\n").join("");
  const per = (bytes: number) => (bytes / lines.length).toFixed(1);
  console.log(`${lines.length} responses logged (${load.requests.total} requests counted by autocannon, ${load.non2xx + load.errors} failed) in ${files.length} file(s)`);
  console.log(`format             plain B/response   gzip B/response`);
  console.log(`current            ${per(plain.length).padStart(16)}   ${per(gzipSync(plain).length).padStart(15)}`);
  console.log(`release key only   ${per(Buffer.byteLength(trimmed)).padStart(16)}   ${per(gzipSync(trimmed).length).padStart(15)}`);
} finally {
  await children.stopAll();
  await rm(work, { recursive: true, force: true });
}
