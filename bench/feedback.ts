/**
 * The feedback experiment's default run, timed: `npx tsx bench/feedback.ts [--users N --movies M
 * --rounds R --seeds S --workers W]`. Prints wall time, CPU time and the headline numbers at the
 * last round per epsilon (coverage, exposure Gini, utility) as JSON, for bench/RESULTS.md.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { createProgress } from "@recsys/core";
import { simulateFeedback } from "@recsys/feedback";

const { values } = parseArgs({ options: { users: { type: "string" }, movies: { type: "string" }, rounds: { type: "string" }, seeds: { type: "string" }, workers: { type: "string" } } });
const num = (s: string | undefined) => (s === undefined ? undefined : Number(s));
const root = await mkdtemp(join(tmpdir(), "feedback-bench-"));
const progress = createProgress();
const started = performance.now(), cpu = process.cpuUsage();
try {
  const report = await simulateFeedback(join(root, "out"), {
    users: num(values.users), movies: num(values.movies), rounds: num(values.rounds), seeds: num(values.seeds), workers: num(values.workers),
  }, { onProgress: (t) => progress.update(t) });
  progress.clear();
  const used = process.cpuUsage(cpu);
  const last = report.settings.rounds;
  const headline = Object.fromEntries(report.settings.epsilons.map((e) => [String(e), Object.fromEntries(["coverage", "exposureGini", "utility", "homogenisation", "top1Share", "rmse", "pushedInGroupShare"].map((m) => {
    const p = report.series.find((s) => s.metric === m && s.epsilon === e && s.round === last);
    return [m, p ? { mean: +p.mean.toFixed(4), low: +p.low.toFixed(4), high: +p.high.toFixed(4) } : null];
  }))]));
  // Main-thread CPU only: the runs' worker threads are counted by the process's user+sys time below.
  console.log(JSON.stringify({ wallSeconds: +((performance.now() - started) / 1000).toFixed(1), processCpuSeconds: +((used.user + used.system) / 1e6).toFixed(1), settings: report.settings, headline, findings: report.findings }, null, 2));
} finally {
  await rm(root, { recursive: true, force: true });
}
