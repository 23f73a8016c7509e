import { z } from "zod";
import { createTerminalOutput, runMainJob, type OutputStream } from "@recsys/platform";
import { defineCommand } from "../command.ts";
import { FORCE_FLAG, forceFlag, intFlag, noPositionals, numberFlag, seedFlag } from "../flags.ts";

export default defineCommand({
  name: "start",
  summary: "run the platform end to end on the embedded default (the README's main job)",
  help: `[--duration SECONDS] [--work DIR] [--force] [--port P] [--replicas N] [--rps R] [--cycle S]
       [--users N] [--movies M] [--days D] [--seed S] [--verbose] [--json]

Simulates a streaming site, ingests its stream, trains behind the RMSE gate, starts the router
and API replicas, then runs live: simulated users use the service through the router, and every
cycle the platform re-ingests, retrains, gates and canary-deploys the new model, promoting or
rolling back by the canary analysis. Ctrl-C stops everything cleanly. On a terminal a live view
(releases and weights, requests/s, p99, success rate, the canary's progress, the last verdict)
is redrawn in place below one line per event; elsewhere (CI logs) events only, plus the status
line every 30 s. Every line, with the canary's full analysis lines, goes to
WORK/platform/analysis.log.
  --duration S   stop after S seconds of live operation (exit 0); default: run until Ctrl-C
  --work DIR     where the run writes (default runs/latest); reused only if an earlier run made it
  --force        take over a --work folder recsys did not make (never a device or a link)
  --port P       the router's port, where the service is reached (default 8082; 0 = any free port)
  --replicas N   stable API replicas (default 2)
  --rps R        live users' requests per second (default 40)
  --cycle S      seconds of live traffic between retrains (default 15)
  --users N      simulated users (default 5000)
  --movies M     simulated movies (default 2000)
  --days D       simulated days of history (default 30)
  --seed S       random seed (default 42)
  --verbose      also print the canary's full analysis line at each interval
Env: RECSYS_ADMIN_TOKEN: the router's admin token (16+ characters); unset = a random one in
WORK/platform/admin-token, readable by you only, which 'recsys deploy --state WORK/platform' reads.`,
  exits: ["gateFailed"],
  flags: {
    duration: { type: "string" },
    work: { type: "string" },
    port: { type: "string" },
    replicas: { type: "string" },
    rps: { type: "string" },
    cycle: { type: "string" },
    users: { type: "string" },
    movies: { type: "string" },
    days: { type: "string" },
    seed: { type: "string" },
    ...FORCE_FLAG,
    verbose: { type: "boolean" },
  },
  schema: z.object({
    duration: numberFlag(1, 7 * 86400).optional(),
    work: z.string().min(1).default("runs/latest"),
    port: intFlag(0, 65535).default(8082),
    replicas: intFlag(1, 8).default(2),
    rps: numberFlag(0.1, 2000).default(40),
    cycle: numberFlag(1, 86400).default(15),
    users: intFlag(1, 1_000_000).default(5000),
    movies: intFlag(25, 500_000).default(2000),
    days: intFlag(1, 3650).default(30),
    seed: seedFlag,
    force: forceFlag,
    verbose: z.boolean().default(false),
    _: noPositionals,
  }),
  async run(o, io) {
    const summary = await runMainJob(
      {
        workDir: o.work, force: o.force, users: o.users, movies: o.movies, days: o.days, seed: o.seed, durationS: o.duration,
        routerPort: o.port, replicas: o.replicas, rps: o.rps, cycleS: o.cycle, adminToken: process.env.RECSYS_ADMIN_TOKEN || undefined,
      },
      createTerminalOutput(io.stderr as OutputStream, { verbose: o.verbose }),
      io.waitForStop(),
    );
    const verdicts = summary.releases.map((r) => `${r.releaseId}: ${r.verdict}`).join(", ");
    return {
      summary: summary as unknown as Record<string, unknown>,
      text: `main job done (${summary.workDir}): ${summary.models.length} models trained, releases ${verdicts || "none"}; ${summary.traffic.sent} live requests, ${summary.traffic.failed} failed`,
    };
  },
});
