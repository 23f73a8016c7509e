import { z } from "zod";
import { createProgress } from "@recsys/core";
import { createWorld, writeSimulation } from "@recsys/simulator";
import { defineCommand } from "../command.ts";
import { FORCE_FLAG, FORCE_HELP, forceFlag, intFlag, noPositionals, numberFlag, seedFlag } from "../flags.ts";

export default defineCommand({
  name: "simulate",
  summary: "generate a synthetic streaming site: event log, users, movies, hidden truth",
  help: `--out DIR [--force] [--users N] [--movies M] [--days D] [--seed S] [--rating-noise X] [--json]

Writes DIR/events.log (watch, rate and recommendation-request lines, with ~1-2% dirty lines),
DIR/users.jsonl, DIR/movies.jsonl and DIR/truth/ (the hidden preference model).
  --out DIR           output directory (replaced if it holds an earlier simulation)
${FORCE_HELP}
  --users N           number of users (default 5000, max 1000000)
  --movies M          number of movies (default 2000, 25..500000)
  --days D            simulated days (default 30, max 3650)
  --seed S            random seed (default 42): same seed, same bytes
  --rating-noise X    noise on each rating in the hidden truth (default 0.7); e.g. 3 makes
                      ratings practically unlearnable, to exercise the training quality gate`,
  exits: [],
  flags: {
    out: { type: "string" },
    users: { type: "string" },
    movies: { type: "string" },
    days: { type: "string" },
    seed: { type: "string" },
    "rating-noise": { type: "string" },
    ...FORCE_FLAG,
  },
  schema: z.object({
    out: z.string({ error: "--out DIR is required" }).min(1),
    users: intFlag(1, 1_000_000).default(5000),
    movies: intFlag(25, 500_000).default(2000),
    days: intFlag(1, 3650).default(30),
    seed: seedFlag,
    "rating-noise": numberFlag(0, 10).optional(),
    force: forceFlag,
    _: noPositionals,
  }),
  async run(o) {
    const world = createWorld({ users: o.users, movies: o.movies, seed: o.seed, ratingNoise: o["rating-noise"] });
    const s = await writeSimulation(world, { outDir: o.out, days: o.days, seed: o.seed, force: o.force, progress: createProgress() });
    const text = [
      `wrote ${s.outDir}: ${s.fileLines} lines (${s.lines.watch} watch, ${s.lines.rate} rate, ${s.lines.request} request)`,
      `dirty: ${s.dirty.total} (${(s.dirty.share * 100).toFixed(2)}%), named as 'recsys ingest' reports them: rejects ${Object.entries(s.dirty.rejects).map(([code, n]) => `${code} ${n}`).join(", ")}; `
        + `kept: out of order ${s.dirty.outOfOrder}, unknown user ${s.dirty.unknownUserLines} lines, unknown movie ${s.dirty.unknownMovieLines} lines`,
      `${s.users} users, ${s.movies} movies, ${s.days} days; ratings mean ${s.ratings.mean}; ${s.seconds} s, ${s.linesPerSecond} lines/s`,
    ].join("\n");
    return { summary: s as unknown as Record<string, unknown>, text };
  },
});
