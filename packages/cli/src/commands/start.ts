import { z } from "zod";
import { runMainJob } from "@recsys/platform";
import { defineCommand } from "../command.ts";
import { intFlag, noPositionals, seedFlag } from "../flags.ts";

export default defineCommand({
  name: "start",
  summary: "the main job on the embedded default: simulate a site, ingest its stream, report quality",
  help: `[--work DIR] [--users N] [--movies M] [--days D] [--seed S] [--json]

Runs the platform end to end with no Docker and no external server.
  --work DIR     where the run writes (default runs/latest; replaced stage by stage)
  --users N      simulated users (default 5000)
  --movies M     simulated movies (default 2000)
  --days D       simulated days (default 30)
  --seed S       random seed (default 42)`,
  flags: {
    work: { type: "string" },
    users: { type: "string" },
    movies: { type: "string" },
    days: { type: "string" },
    seed: { type: "string" },
  },
  schema: z.object({
    work: z.string().min(1).default("runs/latest"),
    users: intFlag(1, 1_000_000).default(5000),
    movies: intFlag(25, 500_000).default(2000),
    days: intFlag(1, 3650).default(30),
    seed: seedFlag,
    _: noPositionals,
  }),
  async run(o, io) {
    const summary = await runMainJob(
      { workDir: o.work, users: o.users, movies: o.movies, days: o.days, seed: o.seed },
      (line) => io.stderr.write(line + "\n"),
    );
    return { summary: summary as unknown as Record<string, unknown>, text: `main job done: ${summary.workDir}` };
  },
});
