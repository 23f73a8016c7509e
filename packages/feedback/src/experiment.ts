import { mkdir, rm } from "node:fs/promises";
import { join } from "node:path";
import { parseOrThrow } from "@recsys/core";
import { createWorld, writeSimulation, SIM_FILES } from "@recsys/simulator";
import { ExperimentOptionsSchema, FEEDBACK_ERRORS, type ExperimentOptions, type ResolvedExperimentOptions } from "./options.ts";
import { planPush, type PushPlan } from "./push.ts";
import { runAll } from "./pool.ts";
import type { RoundMetrics, RunResult, RunSpec } from "./loop.ts";
import { summarise } from "./summary.ts";

const DAY_MS = 86_400_000;
const HISTORY_START = "2022-02-01";

/** One figure per epsilon and round: the mean over seeds and the band (lowest and highest seed). */
export interface SeriesPoint { metric: string; epsilon: number; round: number; mean: number; low: number; high: number; seeds: number }

export interface FeedbackReport {
  kind: "feedback-simulate";
  settings: Omit<ResolvedExperimentOptions, "workers">;
  /** The pushed movie and group of each seed's world (the movie is picked per world). */
  pushes: Array<PushPlan & { seed: number }>;
  /** Every measure per epsilon and round, averaged over seeds, with a min-max band. */
  series: SeriesPoint[];
  /** The computed sentences: what exploration bought and what it cost. */
  findings: string[];
  runs: RunResult[];
}

/** Per-round scalars that the series carries, by metric name; per-group RMSE adds `rmse:<group>`. */
function scalars(m: RoundMetrics): Record<string, number> {
  const out: Record<string, number> = {
    exposureGini: m.exposureGini, coverage: m.coverage, homogenisation: m.homogenisation, top1Share: m.top1Share,
    utility: m.utility, watchRate: m.watchRate, rmse: m.rmse.overall, pushedInGroupShare: m.pushed.inGroupShare,
  };
  for (const [g, v] of Object.entries(m.rmse.byGroup)) out[`rmse:${g}`] = v.rmse;
  return out;
}

/** Mean and min-max band over seeds, per metric, epsilon and round; NaN figures (no data) are left out. */
export function aggregate(runs: readonly RunResult[]): SeriesPoint[] {
  const cells = new Map<string, { metric: string; epsilon: number; round: number; values: number[] }>();
  for (const run of runs) {
    for (const m of run.rounds) {
      for (const [metric, value] of Object.entries(scalars(m))) {
        const key = `${metric}|${run.epsilon}|${m.round}`;
        const cell = cells.get(key) ?? { metric, epsilon: run.epsilon, round: m.round, values: [] };
        if (Number.isFinite(value)) cell.values.push(value);
        cells.set(key, cell);
      }
    }
  }
  return [...cells.values()].filter((c) => c.values.length > 0).map((c) => ({
    metric: c.metric, epsilon: c.epsilon, round: c.round, seeds: c.values.length,
    mean: c.values.reduce((a, b) => a + b, 0) / c.values.length, low: Math.min(...c.values), high: Math.max(...c.values),
  })).sort((a, b) => (a.metric < b.metric ? -1 : a.metric > b.metric ? 1 : a.epsilon - b.epsilon || a.round - b.round));
}

/**
 * The whole experiment in `workDir`: one simulated world per seed (its history written by the
 * simulator), one closed-loop run per (epsilon, seed) on a pool of workers, then the series and
 * findings. The caller owns `workDir` and removes it.
 *
 *     const report = await runExperiment({ rounds: 10, epsilons: [0, 0.1] }, "/tmp/work", (t) => progress.update(t));
 */
export async function runExperiment(options: ExperimentOptions, workDir: string, onProgress: (text: string) => void = () => {}): Promise<FeedbackReport> {
  const o = parseOrThrow(ExperimentOptionsSchema, options, "feedback options", FEEDBACK_ERRORS.badOptions);
  const seeds = Array.from({ length: o.seeds }, (_, s) => o.seed + s);
  const specs: RunSpec[] = [];
  const pushes: FeedbackReport["pushes"] = [];
  for (const seed of seeds) {
    onProgress(`feedback: simulating ${o.historyDays} days of history for world ${seed}`);
    const worldOptions = { users: o.users, movies: o.movies, seed };
    const world = createWorld(worldOptions);
    const dir = join(workDir, `world-${seed}`);
    await writeSimulation(world, { outDir: dir, days: o.historyDays, seed, startDate: HISTORY_START });
    const push = planPush(world, o.pushGroup, o.pushRounds);
    pushes.push({ ...push, seed });
    for (const epsilon of o.epsilons) {
      const runDir = join(workDir, `run-${seed}-${epsilon}`);
      await mkdir(runDir, { recursive: true });
      specs.push({
        epsilon, seed, rounds: o.rounds, world: worldOptions, push, workDir: runDir,
        historyEvents: join(dir, SIM_FILES.events), usersFile: join(dir, SIM_FILES.users), moviesFile: join(dir, SIM_FILES.movies),
        historyEndMs: Date.parse(`${HISTORY_START}T00:00:00Z`) + (o.historyDays - 1) * DAY_MS,
      });
    }
  }
  const done = new Int32Array(specs.length);
  const total = specs.length * o.rounds;
  const runs = await runAll(specs, o.workers, (run, round) => {
    done[run] = round;
    const finished = done.reduce((a, b) => a + b, 0);
    onProgress(`feedback: ${finished}/${total} rounds (${specs.length} runs: ${o.epsilons.length} epsilons x ${o.seeds} seeds, ${Math.min(o.workers, specs.length)} at a time)`);
  });
  await Promise.all(specs.map((s) => rm(s.workDir, { recursive: true, force: true })));
  const { workers: _workers, ...settings } = o;
  const series = aggregate(runs);
  return { kind: "feedback-simulate", settings, pushes, series, findings: summarise(series, settings, pushes), runs };
}
