/**
 * Simulator figures: time, lines/s and peak memory for a world, then how learnable its ratings
 * are through the real pipeline (ingest, then train's held-out RMSE beside its biases-only
 * baseline). Run: npx tsx bench/simulate.ts [--users N --movies M --days D --rating-noise X]
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { createWorld, writeSimulation, SIM_FILES } from "@recsys/simulator";
import { ingestEvents } from "@recsys/ingest";
import { ModelGateFailedError, trainAndGate } from "@recsys/train";

const { values } = parseArgs({ options: { users: { type: "string" }, movies: { type: "string" }, days: { type: "string" }, "rating-noise": { type: "string" } } });
const users = Number(values.users ?? 5000), movies = Number(values.movies ?? 2000), days = Number(values.days ?? 30);
const dir = await mkdtemp(join(tmpdir(), "bench-sim-"));
try {
  let peak = 0;
  const sampler = setInterval(() => { peak = Math.max(peak, process.memoryUsage().rss); }, 50);
  const world = createWorld({ users, movies, seed: 42, ...(values["rating-noise"] ? { ratingNoise: Number(values["rating-noise"]) } : {}) });
  const sim = await writeSimulation(world, { outDir: join(dir, "world"), days, seed: 42 });
  clearInterval(sampler);
  console.log(`simulate ${users} users x ${movies} movies x ${days} days: ${sim.fileLines} lines in ${sim.seconds} s = ${sim.linesPerSecond} lines/s, peak RSS ${(peak / 2 ** 20).toFixed(0)} MB`);
  console.log(`  ratings ${sim.ratings.count}, mean ${sim.ratings.mean}; dirty ${(sim.dirty.share * 100).toFixed(2)}%`);

  const ingested = await ingestEvents({
    input: join(dir, "world", SIM_FILES.events), usersFile: join(dir, "world", SIM_FILES.users),
    moviesFile: join(dir, "world", SIM_FILES.movies), outDir: join(dir, "dataset"),
  });
  const trained = await trainAndGate({ dataDir: ingested.outDir, outDir: join(dir, "model"), seed: 42 }).catch((err: unknown) => {
    if (err instanceof ModelGateFailedError) return { meta: err.meta };
    throw err;
  });
  const m = trained.meta.metrics;
  console.log(`learnability: held-out RMSE ${m.rmse!.toFixed(4)} (biases-only baseline ${m.baselineRmse!.toFixed(4)}), gate ${trained.meta.gate.passed ? "passed" : "failed"} on ${m.trainRatings} training ratings`);
} finally {
  await rm(dir, { recursive: true, force: true });
}
