import { join } from "node:path";
import { z } from "zod";
import { createProgress, parseOrThrow } from "@recsys/core";
import { createWorld, writeSimulation, SIM_FILES, type SimulationSummary } from "@recsys/simulator";
import { formatQualitySummary, ingestEvents, type IngestSummary } from "@recsys/ingest";
import { createReadStream } from "node:fs";

export const MainJobOptionsSchema = z.object({
  /** Everything the run writes goes below this directory (replaced at each run). */
  workDir: z.string().min(1).default("runs/latest"),
  seed: z.number().int().min(0).max(2 ** 32 - 1).default(42),
  users: z.number().int().positive().default(5000),
  movies: z.number().int().positive().default(2000),
  days: z.number().int().positive().default(30),
}).strict();
export type MainJobOptions = z.input<typeof MainJobOptionsSchema>;

export interface MainJobSummary {
  workDir: string;
  simulation: SimulationSummary;
  ingest: Omit<IngestSummary, "quality"> & { rejected: number };
  qualityText: string;
}

/** Where each stage writes, below the work directory. */
export function mainJobPaths(workDir: string) {
  return {
    world: join(workDir, "world"),
    dataset: join(workDir, "dataset"),
  };
}

/**
 * The platform's main job on the embedded default: simulate a streaming site, ingest its event
 * stream into the canonical dataset and report data quality. `log` receives one line per stage.
 *
 *     const summary = await runMainJob({ workDir: "runs/demo", seed: 1 }, console.log);
 */
export async function runMainJob(options: MainJobOptions, log: (line: string) => void): Promise<MainJobSummary> {
  const opts = parseOrThrow(MainJobOptionsSchema, options, "main job options");
  const paths = mainJobPaths(opts.workDir);

  log(`simulate: ${opts.users} users, ${opts.movies} movies, ${opts.days} days (seed ${opts.seed}) -> ${paths.world}`);
  const world = createWorld({ users: opts.users, movies: opts.movies, seed: opts.seed });
  const simulation = await writeSimulation(world, { outDir: paths.world, days: opts.days, seed: opts.seed, progress: createProgress() });
  log(`simulate: ${simulation.lines.total} event lines (${simulation.dirty.total} deliberately dirty) in ${simulation.seconds.toFixed(1)} s`);

  log(`ingest: ${join(paths.world, SIM_FILES.events)} -> ${paths.dataset}`);
  const ingested = await ingestEvents({
    input: createReadStream(join(paths.world, SIM_FILES.events)),
    usersFile: join(paths.world, SIM_FILES.users),
    moviesFile: join(paths.world, SIM_FILES.movies),
    outDir: paths.dataset,
    progress: createProgress(),
  });
  const { quality, ...rest } = ingested;
  const qualityText = formatQualitySummary(quality);
  log(qualityText.trimEnd());
  return { workDir: opts.workDir, simulation, ingest: { ...rest, rejected: quality.lines.rejected }, qualityText };
}
