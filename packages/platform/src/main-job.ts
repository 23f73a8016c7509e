import { createReadStream } from "node:fs";
import { rm, stat } from "node:fs/promises";
import { join } from "node:path";
import { z } from "zod";
import { claimOutputDir, createLineLog, createProgress, EXIT, parseOrThrow, RecsysError, sleepUnless, type LineLog } from "@recsys/core";
import { createWorld, writeSimulation, SIM_FILES, type SimulationSummary, type World } from "@recsys/simulator";
import { formatQualitySummary, ingestEvents } from "@recsys/ingest";
import { trainAndGate } from "@recsys/train";
import { createProcessDriver, DEPLOY_ERRORS, startPlatform, STATE_FILES, type Platform, type ReleaseRecord } from "@recsys/deploy";
import { FairnessConfigSchema, fairnessGate } from "@recsys/fairness";
import { startTraffic, type Traffic } from "./traffic.ts";
import { canaryProgress, type CanaryProgress } from "./status.ts";
import type { MainJobOutput } from "./terminal.ts";

export const MainJobOptionsSchema = z.object({
  /** Everything the run writes goes below this directory: stage outputs are replaced at each run, the release history accumulates. */
  workDir: z.string().min(1).default("runs/latest"),
  /** Take over a workDir recsys did not mark as a run (and the stage outputs inside it). */
  force: z.boolean().default(false),
  seed: z.number().int().min(0).max(2 ** 32 - 1).default(42),
  users: z.number().int().positive().default(5000),
  movies: z.number().int().positive().default(2000),
  days: z.number().int().positive().default(30),
  /** Seconds of live operation after the platform is up; absent = until stopped. */
  durationS: z.number().positive().optional(),
  /** Where the router listens: the service's public port (0 = any free port). */
  routerPort: z.number().int().min(0).max(65535).default(8082),
  replicas: z.number().int().min(1).max(8).default(2),
  /** Live users' request rate through the router. */
  rps: z.number().positive().max(2000).default(40),
  /** Seconds of live traffic gathered before each retrain. */
  cycleS: z.number().positive().default(15),
  /** Canary: analysis interval, and the requests it needs before a verdict. */
  analysisIntervalMs: z.number().int().positive().default(3000),
  canaryMinRequests: z.number().int().positive().default(100),
  /**
   * The router's admin token (RECSYS_ADMIN_TOKEN), for deploys from outside (`recsys deploy
   * --state WORK/platform`); absent = a random one in WORK/platform/admin-token (owner-only).
   */
  adminToken: z.string().min(16, "RECSYS_ADMIN_TOKEN must have at least 16 characters").optional(),
}).strict();
export type MainJobOptions = z.input<typeof MainJobOptionsSchema>;

export interface MainJobSummary {
  workDir: string;
  simulation: SimulationSummary;
  /** Each model trained: where it went and whether it passed the gate. */
  models: Array<{ dir: string; passed: boolean; rmse: number; dataHash: string }>;
  /** Every release decision of the live phase (the initial release first). */
  releases: ReleaseRecord[];
  traffic: { sent: number; ok: number; failed: number };
}

/** Where each stage writes, below the work directory. */
export function mainJobPaths(workDir: string) {
  return {
    world: join(workDir, "world"),
    dataset: (cycle: number) => join(workDir, "datasets", `d${cycle}`),
    model: (cycle: number) => join(workDir, "models", `m${cycle}`),
    platform: join(workDir, "platform"),
    /** The live users' watch and rate lines. */
    liveEvents: join(workDir, "live", "events.log"),
    /** Every event line and every canary analysis line of the run, each with its time. */
    runLog: join(workDir, "platform", "analysis.log"),
  };
}

/**
 * The platform's main job on the embedded default, with no Docker and no external server:
 * simulate a site, ingest its stream, train behind the gate, start the router and API replicas,
 * then run live: simulated users use the service, and every cycle the new events are ingested,
 * a model retrained and gated, and canary-deployed with automatic promote or rollback.
 * Stops after `durationS` or when `stop` resolves, everything shut down cleanly. Reports to
 * `output` (events, analysis lines, live figures); the run log keeps every line with its time.
 *
 *     const summary = await runMainJob({ workDir: "runs/demo", durationS: 90 }, { event: console.error });
 */
export async function runMainJob(options: MainJobOptions, output: MainJobOutput, stop: Promise<unknown> = new Promise(() => {})): Promise<MainJobSummary> {
  const opts = parseOrThrow(MainJobOptionsSchema, options, "main job options");
  const paths = mainJobPaths(opts.workDir);
  // Everything below a claimed run directory is the run's own: stage outputs replace what is
  // there (force), which also takes over the unmarked stage folders of a run made before markers.
  await claimOutputDir(opts.workDir, { kind: "run", force: opts.force });
  await rm(paths.runLog, { force: true }); // this run's log, not the last run's with this one appended
  const runLog = createLineLog({ path: paths.runLog, flushMs: 1000 });
  const write = (line: string) => runLog.write(`${new Date().toISOString()} ${line}`);
  const out: Reporter = {
    event: (line) => { write(line); output.event(line); },
    detail: (line) => { write(line); output.detail?.(line); },
  };
  try {
    return await runStages(opts, paths, out, output, stop);
  } finally {
    await runLog.close();
  }
}

/** Where the job's lines go: `event` for the ones that matter, `detail` for the rest. */
interface Reporter {
  event(line: string): void;
  detail(line: string): void;
}

async function runStages(
  opts: z.output<typeof MainJobOptionsSchema>, paths: ReturnType<typeof mainJobPaths>, out: Reporter,
  output: MainJobOutput, stop: Promise<unknown>,
): Promise<MainJobSummary> {
  const runStartedAt = Date.now();
  const log = out.event;
  // One signal for "the run is over": a stop request, or later the end of --duration.
  const run = new AbortController();
  void stop.then(() => run.abort());

  log(`simulate: ${opts.users} users, ${opts.movies} movies, ${opts.days} days (seed ${opts.seed}) -> ${paths.world}`);
  const world = createWorld({ users: opts.users, movies: opts.movies, seed: opts.seed });
  const simulation = await writeSimulation(world, { outDir: paths.world, days: opts.days, seed: opts.seed, force: true, progress: createProgress() });
  log(`simulate: ${simulation.lines.total} event lines (${simulation.dirty.total} deliberately dirty) in ${simulation.seconds.toFixed(1)} s`);

  const models: MainJobSummary["models"] = [];
  const summary: MainJobSummary = { workDir: opts.workDir, simulation, models, releases: [], traffic: { sent: 0, ok: 0, failed: 0 } };
  if (run.signal.aborted) return summary;
  const first = await ingestAndTrain(world, paths, 0, opts, out);
  models.push(first);
  if (run.signal.aborted) return summary;

  const platform = await startPlatform({
    modelDir: first.dir, driver: createProcessDriver({ logDir: join(paths.platform, STATE_FILES.replicas) }),
    stateDir: paths.platform, replicas: opts.replicas, routerPort: opts.routerPort, adminToken: opts.adminToken, log,
    // The demo runs from a development checkout: a dirty tree is recorded in each manifest, not refused.
    allowDirty: true,
  });
  // From here on, whatever happens, the router and every replica are stopped before returning.
  const liveLog = createLineLog({ path: paths.liveEvents, flushMs: 500 });
  let traffic: Traffic | null = null;
  let status: ReturnType<typeof startStatus> | null = null;
  const canary: { progress: CanaryProgress | null } = { progress: null };
  try {
    const sampleUser = world.users[0]!.user_id;
    const sample = await (await fetch(`${platform.routerUrl}/recommend/${sampleUser}`, { signal: AbortSignal.timeout(5000) })).text();
    log(`platform: router ${platform.routerUrl} in front of ${opts.replicas} replicas; sample: GET ${platform.routerUrl}/recommend/${sampleUser} -> ${sample.slice(0, 120)}...`);
    log(`platform: deploy your own model into it with: recsys deploy --model DIR --state ${paths.platform} --watches ${paths.liveEvents}`);
    traffic = startTraffic({ routerUrl: platform.routerUrl, world, rps: opts.rps, concurrency: 32, eventLog: liveLog, seed: opts.seed });
    if (output.status) status = startStatus(platform, traffic, canary, output.status);
    if (opts.durationS !== undefined) setTimeout(() => run.abort(), opts.durationS * 1000).unref();
    await runCycles(world, paths, opts, platform, liveLog, run.signal, models, out, canary);
  } finally {
    await status?.stop();
    output.close?.();
    await traffic?.stop();
    await liveLog.close();
    // The history file keeps earlier runs' releases too; the summary reports this run's.
    summary.releases = (await platform.status()).releases.filter((r) => Date.parse(r.startedAt) >= runStartedAt);
    await platform.stop();
    if (traffic) {
      const { sent, ok, failed } = traffic.stats();
      summary.traffic = { sent, ok, failed };
    }
    log(`stopped: ${summary.traffic.sent} live requests, ${summary.traffic.failed} failed; ${summary.releases.length} release records in ${join(paths.platform, STATE_FILES.releases)}`);
  }
  return summary;
}

/** The brief's canary share: 20% to the new model, 80% to the stable replicas. */
const CANARY_WEIGHT = 20;

/**
 * The fairness gate of every retrained model: the fairness package's default requirements
 * (gender and age, nDCG and RMSE), on the model's own held-out split of the cycle's dataset, with
 * 200 bootstrap resamples and 200 permutations instead of 1000 (the p-value's resolution is then
 * 1/201). On the default world it takes 12-15 s under heavy load, mostly loading and per-user
 * scoring (bench/RESULTS.md), and runs while the stable release keeps serving.
 */
const CYCLE_FAIRNESS = FairnessConfigSchema.parse({ bootstrap: 200, permutations: 200 });

/**
 * Retrain-and-release cycles until `signal` aborts; a deploy in progress is rolled back then.
 * `canary.progress` follows the canary in flight, for the live view.
 */
async function runCycles(
  world: World, paths: ReturnType<typeof mainJobPaths>, opts: z.output<typeof MainJobOptionsSchema>,
  platform: Platform, liveLog: LineLog, signal: AbortSignal,
  models: MainJobSummary["models"], out: Reporter, canary: { progress: CanaryProgress | null },
): Promise<void> {
  for (let cycle = 1; ; cycle++) {
    await sleepUnless(opts.cycleS * 1000, signal);
    if (signal.aborted) return;
    await liveLog.flush();
    const trained = await ingestAndTrain(world, paths, cycle, opts, out);
    models.push(trained);
    if (!trained.passed || signal.aborted) continue;
    out.event(`canary: model #${cycle} goes out to ${CANARY_WEIGHT}% of traffic if it passes the fairness gate`);
    try {
      // The deploy's own lines (its verdict line carries every check's clause) go to the run log;
      // the terminal gets the verdict with its first reason, the one that decided.
      const record = await platform.deploy(trained.dir, {
        canaryWeight: CANARY_WEIGHT, intervalMs: opts.analysisIntervalMs, watchesPath: paths.liveEvents, signal, log: out.detail,
        usersPath: join(paths.world, SIM_FILES.users),
        canary: { minRequests: opts.canaryMinRequests, minSamplesForQuality: opts.canaryMinRequests, followWindowMs: 30_000 },
        onAnalysis: (a, line) => { canary.progress = canaryProgress(a); out.detail(line); },
        fairness: (modelDir) => fairnessGate({ modelDir, dataDir: paths.dataset(cycle), config: CYCLE_FAIRNESS, seed: opts.seed }),
      });
      out.event(`release ${record.releaseId}: ${record.verdict} (${record.reason.split("; ")[0]})`);
    } catch (err) {
      // One canary at a time: a user's `recsys deploy` holds the platform, so this cycle's model
      // stays out (nothing was started) and the next cycle, trained on more data, tries again.
      if (!(err instanceof RecsysError) || err.code !== DEPLOY_ERRORS.busy) throw err;
      out.event(`canary: model #${cycle} stays out: ${err.message.replace(/; wait for it.*$/, "")}; the next cycle tries again`);
    } finally {
      canary.progress = null;
    }
  }
}

/**
 * Ingests history + live events into dataset `cycle` and trains on it. The first cycle shows
 * its progress and data-quality summary; later ones run under the live view, so they only log.
 */
async function ingestAndTrain(world: World, paths: ReturnType<typeof mainJobPaths>, cycle: number, { seed }: { seed: number }, out: Reporter) {
  const first = cycle === 0;
  const log = out.event;
  const dataset = paths.dataset(cycle);
  const inputs = [join(paths.world, SIM_FILES.events), paths.liveEvents, join(paths.platform, STATE_FILES.events)];
  const ingested = await ingestEvents({
    input: concatFiles(inputs),
    usersFile: join(paths.world, SIM_FILES.users),
    moviesFile: join(paths.world, SIM_FILES.movies),
    outDir: dataset, force: true,
    progress: first ? createProgress() : undefined,
  });
  if (first) log(formatQualitySummary(ingested.quality).trimEnd());
  (first ? out.event : out.detail)(`ingest #${cycle}: ${ingested.counts.ratings ?? 0} ratings, ${ingested.quality.lines.rejected} lines rejected -> ${dataset}`);
  try {
    const { dir, meta } = await trainAndGate({ dataDir: dataset, outDir: paths.model(cycle), seed, force: true });
    log(`train #${cycle}: held-out RMSE ${meta.gate.value.toFixed(4)} < ${meta.gate.threshold}: gate passed -> ${dir}`);
    return { dir, passed: true, rmse: meta.gate.value, dataHash: meta.dataHash };
  } catch (err) {
    // The first model has nothing to fall back on: its gate failure ends the job (exit 3).
    if (!(err instanceof RecsysError) || err.exitCode !== EXIT.gateFailed || cycle === 0) throw err;
    log(`train #${cycle}: ${err.message}`);
    return { dir: `${paths.model(cycle)}.failed`, passed: false, rmse: Number.NaN, dataHash: ingested.dataHash };
  }
}

/** The files one after another as one stream; files that do not exist yet are skipped. */
async function* concatFiles(files: string[]): AsyncGenerator<Buffer> {
  for (const file of files) {
    const size = await stat(file).then((s) => s.size, () => 0);
    // Read only what was there at the start: a log being appended to is cut at a whole flush.
    if (size > 0) yield* createReadStream(file, { end: size - 1 }) as AsyncIterable<Buffer>;
  }
}

/** Hands the live figures to `show` once a second, and once more when stopped (the last verdict included). */
function startStatus(platform: Platform, traffic: Traffic, canary: { progress: CanaryProgress | null }, show: NonNullable<MainJobOutput["status"]>) {
  let stopped = false;
  const read = async () => {
    const status = await platform.status().catch(() => null);
    return status && { platform: status, traffic: traffic.stats(), canary: canary.progress };
  };
  const timer = setInterval(async () => {
    const view = await read();
    // A tick that was still reading when the job stopped must not draw over the final frame.
    if (view && !stopped) show(view);
  }, 1000);
  return {
    async stop() {
      stopped = true;
      clearInterval(timer);
      const view = await read();
      if (view) show(view);
    },
  };
}
