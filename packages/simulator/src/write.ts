import { z } from "zod";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { createRng, parseOrThrow, writeDirAtomic, formatEventTime, type Progress } from "@recsys/core";
import { minuteStep, ratingDelay } from "./choice.ts";
import { createDirtyWriter, type DirtCounts } from "./dirty.ts";
import { createLineSink } from "./line-sink.ts";
import { createDayPlanner } from "./planner.ts";
import { createSessionQueue, PHASE } from "./schedule.ts";
import { writeTruth } from "./truth-files.ts";
import { SIM_ERRORS } from "./errors.ts";
import type { World } from "./world.ts";

/** Files of a simulation output directory. */
export const SIM_FILES = { events: "events.log", users: "users.jsonl", movies: "movies.jsonl", truth: "truth" } as const;

export const LEGACY_SERVER = "recsys-legacy:8082";
export const TIMEOUT_TEXT = "java.net.SocketTimeoutException: Read timed out";

const DAY_MS = 86_400_000;

export const WriteOptionsSchema = z.object({
  outDir: z.string().min(1),
  days: z.number().int().min(1).max(36_500),
  seed: z.number().int().min(0).max(2 ** 32 - 1),
  /** First simulated day (UTC midnight), ISO date. */
  startDate: z.string().regex(/^\d{4}-\d\d-\d\d$/, "must be YYYY-MM-DD").default("2022-02-01"),
}).strict();
/** `force` replaces an outDir recsys did not write (see core's checkOutput). */
export type WriteOptions = z.input<typeof WriteOptionsSchema> & { progress?: Progress; force?: boolean };

export interface SimulationSummary {
  outDir: string;
  users: number;
  movies: number;
  days: number;
  seed: number;
  /** Lines the site produced, by kind (before dirt; duplicates not included). */
  lines: { watch: number; rate: number; request: number; total: number };
  /** Dirty lines under ingest's names (see DirtCounts); `total` over all of them, `share` of all physical lines. */
  dirty: DirtCounts & { total: number; share: number };
  /** Physical lines in events.log (site lines plus duplicates). */
  fileLines: number;
  /** Well-formed in-range ratings: count, mean and count per star. */
  ratings: { count: number; mean: number; histogram: Record<string, number> };
  firstTime: string | null;
  lastTime: string | null;
  seconds: number;
  linesPerSecond: number;
}

/**
 * Runs the site for `days` days and writes events.log, users.jsonl, movies.jsonl and truth/ into
 * `outDir` (atomically: a crash leaves the old directory). Lines are generated in time order, one
 * day of sessions at a time, merged through a heap and streamed with backpressure, so memory does
 * not grow with the number of lines. Same world and seed, same bytes.
 *
 *     const world = createWorld({ users: 5000, movies: 2000, seed: 42 });
 *     const summary = await writeSimulation(world, { outDir: "sim", days: 30, seed: 42 });
 */
export async function writeSimulation(world: World, options: WriteOptions): Promise<SimulationSummary> {
  const { progress, force, ...rest } = options;
  const opts = parseOrThrow(WriteOptionsSchema, rest, "writeSimulation options", SIM_ERRORS.badOptions);
  const started = performance.now();
  const rng = createRng(opts.seed);
  const planRng = rng.fork("plan"), emitRng = rng.fork("emit"), dirtRng = rng.fork("dirt");
  const start = Date.parse(`${opts.startDate}T00:00:00Z`);
  let summary!: SimulationSummary;

  await writeDirAtomic(opts.outDir, async (tmp) => {
    const sink = createLineSink(join(tmp, SIM_FILES.events));
    const out = createDirtyWriter(sink, dirtRng, world.listedUser, world.listedMovie);
    const queue = createSessionQueue();
    const planner = createDayPlanner(world, queue, planRng);
    let firstTime: number | null = null, lastTime: number | null = null;

    /** Emits every queued line earlier than `limit`, earliest first. */
    const drain = async (limit: number): Promise<void> => {
      while (queue.size > 0) {
        const s = queue.peek();
        const pool = queue.pool;
        const t = pool.time[s]!;
        if (t >= limit) return;
        firstTime ??= t;
        lastTime = t;
        const u = pool.user[s]!, i = pool.movie[s]!;
        const phase = pool.phase[s]!;
        if (phase === PHASE.request) {
          const ok = pool.status[s] === 200;
          out.request(t, u, LEGACY_SERVER, pool.status[s]!, ok ? Array.from(pool.recs[s]!, (r) => world.movieIds[r]!) : TIMEOUT_TEXT, pool.latency[s]!);
          pool.phase[s] = PHASE.watch;
          pool.time[s] = pool.watchStart[s]!;
          queue.updateTop();
        } else if (phase === PHASE.watch) {
          const minute = pool.minute[s]!;
          out.watch(t, u, i, world.movieIds[i]!, minute);
          if (minute < pool.minutes[s]!) {
            pool.minute[s] = minute + 1;
            pool.time[s] = t + minuteStep(emitRng);
            queue.updateTop();
          } else if (pool.rating[s]! > 0) {
            pool.phase[s] = PHASE.rate;
            pool.time[s] = t + ratingDelay(emitRng);
            queue.updateTop();
          } else queue.popTop();
        } else {
          out.rate(t, u, i, world.movieIds[i]!, pool.rating[s]!);
          queue.popTop();
        }
        const wait = sink.maybeFlush();
        if (wait) await wait;
      }
    };

    for (let d = 0; d < opts.days; d++) {
      planner.planDay(start + d * DAY_MS);
      await drain(start + (d + 1) * DAY_MS);
      progress?.update(`simulate: day ${d + 1}/${opts.days}, ${sink.lines.toLocaleString("en-US")} lines`);
    }
    await drain(Infinity);
    out.finish();
    await sink.close();

    await writeFile(join(tmp, SIM_FILES.users), world.users.filter((_, u) => world.listedUser[u]).map((u) => JSON.stringify(u) + "\n").join(""));
    await writeFile(join(tmp, SIM_FILES.movies), world.movies.filter((_, i) => world.listedMovie[i]).map((m) => JSON.stringify(m) + "\n").join(""));
    await writeTruth(join(tmp, SIM_FILES.truth), world);

    const seconds = (performance.now() - started) / 1000;
    const c = out.counts;
    const dirtyTotal = Object.values(c.rejects).reduce((a, b) => a + b, 0) + c.outOfOrder + c.unknownUserLines + c.unknownMovieLines;
    const siteLines = out.lines.watch + out.lines.rate + out.lines.request;
    const rated = out.stars.reduce((a, b) => a + b, 0);
    summary = {
      outDir: opts.outDir,
      users: world.users.length,
      movies: world.movies.length,
      days: opts.days,
      seed: opts.seed,
      lines: { ...out.lines, total: siteLines },
      dirty: { ...c, total: dirtyTotal, share: round(dirtyTotal / Math.max(1, sink.lines), 5) },
      fileLines: sink.lines,
      ratings: {
        count: rated,
        mean: round(out.stars.reduce((a, n, star) => a + n * star, 0) / Math.max(1, rated), 3),
        histogram: Object.fromEntries(out.stars.map((n, star) => [String(star), n]).slice(1)),
      },
      firstTime: firstTime === null ? null : formatEventTime(firstTime),
      lastTime: lastTime === null ? null : formatEventTime(lastTime),
      seconds: round(seconds, 3),
      linesPerSecond: Math.round(sink.lines / Math.max(seconds, 1e-9)),
    };
  }, { kind: "world", force });
  progress?.done(`simulate: ${summary.fileLines.toLocaleString("en-US")} lines in ${summary.seconds} s`);
  return summary;
}

function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
