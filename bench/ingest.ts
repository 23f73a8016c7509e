/**
 * Ingestion throughput and memory: generates a synthetic event log (watch-heavy like a real
 * stream, with ratings, requests and ~0.5% dirty lines) into a temp file, ingests it, and
 * prints lines/s and peak RSS against the anchor of 1M lines in under 10 s. A second, larger
 * run over the same user x movie space shows memory staying flat as lines grow (the child
 * also reports its live heap after a forced GC: the state that survives, which grows only
 * with distinct user x movie pairs).
 *
 *     npx tsx bench/ingest.ts            # 1.2M and 4.8M lines
 *     npx tsx bench/ingest.ts 3000000    # one custom size
 *
 * The ingestion itself runs in a child process so that its peak RSS is its own, not the generator's.
 */
import { createWriteStream } from "node:fs";
import { mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { once } from "node:events";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { createRng, formatRateLine, formatRequestLine, formatWatchLine } from "@recsys/core";
import { ingestEvents } from "@recsys/ingest";

const USERS = 20_000;
const MOVIES = 5_000;
const ANCHOR_LINES = 1_000_000;
const ANCHOR_SECONDS = 10;

/**
 * Interleaves many concurrent viewing sessions, like the site's stream: each session watches
 * consecutive minutes of one movie, and sometimes rates it; request lines and dirty lines are
 * sprinkled in.
 */
async function writeLog(path: string, lines: number, seed: number): Promise<number> {
  const rng = createRng(seed);
  const out = createWriteStream(path);
  const dirty = ["", "2022-02-08T18:10,7,GET /rate/x+1999=4", "2022-02-08T18:10:00.1,7,GET /data/m/x+1999", "garbage"];
  const sessions = Array.from({ length: 2000 }, () => ({ user: 0, movie: "", minute: 0, left: 0 }));
  let t = Date.UTC(2022, 1, 1);
  let batch: string[] = [];
  for (let i = 0; i < lines; i++) {
    t += rng.int(20);
    const s = sessions[rng.int(sessions.length)]!;
    if (s.left === 0) Object.assign(s, { user: rng.int(USERS), movie: `movie+${rng.int(MOVIES)}+1999`, minute: 0, left: 1 + rng.int(120) });
    const r = rng.next();
    if (r < 0.005) batch.push(dirty[rng.int(dirty.length)]!);
    else if (r < 0.02) batch.push(formatRateLine(t, s.user, s.movie, 1 + rng.int(5)));
    else if (r < 0.07) batch.push(formatRequestLine(t, rng.int(USERS), "recsys-1:8082", 200, ["a+1999", "b+2001", "c+1972"], 20 + rng.int(200)));
    else {
      batch.push(formatWatchLine(t, s.user, s.movie, s.minute++));
      s.left--;
    }
    if (batch.length === 10_000) {
      if (!out.write(batch.join("\n") + "\n")) await once(out, "drain");
      batch = [];
    }
  }
  out.end(batch.length ? batch.join("\n") + "\n" : "");
  await once(out, "finish");
  return (await stat(path)).size;
}

/** Child mode: ingest one file and report time and this process's peak RSS (nothing else ran here). */
async function ingestOnce(input: string, outDir: string): Promise<void> {
  const started = performance.now();
  const summary = await ingestEvents({ input, outDir });
  const seconds = (performance.now() - started) / 1000;
  const peakRss = process.resourceUsage().maxRSS * 1024;
  (globalThis as { gc?: () => void }).gc?.();
  // What the run still holds once garbage is gone: the per-pair state, which must not grow with lines.
  const liveHeap = process.memoryUsage().heapUsed;
  console.log(JSON.stringify({ seconds, peakRss, liveHeap, counts: summary.counts }));
}

async function run(lines: number, dir: string): Promise<void> {
  const input = join(dir, `events-${lines}.log`);
  const bytes = await writeLog(input, lines, 42);
  const child = spawnSync(process.execPath, [...process.execArgv, "--expose-gc", fileURLToPath(import.meta.url), "--ingest", input, join(dir, `ds-${lines}`)], { encoding: "utf8" });
  if (child.status !== 0) throw new Error(`ingest child failed: ${child.stderr}`);
  const { seconds, peakRss, liveHeap, counts } = JSON.parse(child.stdout) as { seconds: number; peakRss: number; liveHeap: number; counts: Record<string, number> };
  const rate = lines / seconds;
  const mb = (n: number) => (n / 2 ** 20).toFixed(0);
  console.log(
    `${lines} lines (${mb(bytes)} MB): ${seconds.toFixed(2)} s, ${Math.round(rate).toLocaleString("en")} lines/s, peak RSS ${mb(peakRss)} MB, live heap after GC ${mb(liveHeap)} MB; ` +
      `ratings ${counts.ratings}, watch pairs ${counts.watches}, requests ${counts.requests}, rejects ${counts.rejects}; ` +
      `anchor ${ANCHOR_LINES / 1e6}M lines in < ${ANCHOR_SECONDS} s: ${ANCHOR_LINES / rate < ANCHOR_SECONDS ? "met" : "MISSED"} (${(ANCHOR_LINES / rate).toFixed(2)} s per 1M)`,
  );
}

if (process.argv[2] === "--ingest") {
  await ingestOnce(process.argv[3]!, process.argv[4]!);
  process.exit(0);
}

const dir = await mkdtemp(join(tmpdir(), "recsys-bench-ingest-"));
try {
  const sizes = process.argv[2] ? [Number(process.argv[2])] : [1_200_000, 4_800_000];
  for (const n of sizes) await run(n, dir);
} finally {
  await rm(dir, { recursive: true, force: true });
}
