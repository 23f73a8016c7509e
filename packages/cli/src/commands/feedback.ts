import { z } from "zod";
import { createProgress } from "@recsys/core";
import { parseEpsilonList, PUSH_GROUPS, simulateFeedback } from "@recsys/feedback";
import { defineCommand } from "../command.ts";
import { FORCE_FLAG, FORCE_HELP, forceFlag, intFlag, seedFlag } from "../flags.ts";

/** --epsilon arrives as text; parseEpsilonList's coded error names the item, so it is rethrown as the flag's message. */
const epsilonFlag = z.string().transform((text, ctx) => {
  try {
    return parseEpsilonList(text);
  } catch (err) {
    ctx.addIssue({ code: "custom", message: (err as Error).message });
    return z.NEVER;
  }
});

export default defineCommand({
  name: "feedback",
  summary: "closed-loop feedback experiment: exploration vs coverage, Gini, homogenisation, utility, per-group quality",
  help: `simulate --out DIR [--rounds 10] [--epsilon 0,0.05,0.1] [--seeds 2] [--seed S] [--force] [--json]
                  [--users 2000 --movies 800 --history-days 14] [--push-group gender:F --push-rounds 3] [--workers N]

Runs the recommender in a closed loop with simulated users whose ground truth the model never
sees: each round the model recommends 20 movies to every user through the API's own ranking
(a share epsilon of the slots explores), users choose by the simulator's choice model, the new
events are ingested and the model retrains on everything so far. Per round and epsilon, averaged
over the seeds with a min-max band: exposure Gini, catalogue coverage, homogenisation (Jaccard),
the top 1%'s share of watches, RMSE on fresh ratings overall and per gender/age group, and true
utility; plus one movie pushed to one group and the share of its audience in that group.
Writes OUT/report.json and OUT/report.html (self-contained, charts inline).
  --out DIR             report directory, replaced atomically; only an earlier report is replaced
${FORCE_HELP}
  --rounds R            loop rounds (1-100, default 10)
  --epsilon LIST        exploration shares, comma-separated, 0..0.5 in steps of 0.05 (default 0,0.05,0.1)
  --seeds N             worlds per epsilon, seeds S, S+1, ... (1-20, default 2)
  --seed S              first world's seed (default 42): same seed, same report.json
  --users N --movies M  world size (default 2000 users, 800 movies)
  --history-days D      simulated days before the loop (default 14)
  --push-group G        group a movie is pushed to: ${PUSH_GROUPS.join(", ")} (default gender:F)
  --push-rounds K       rounds the push lasts, from round 1 (default 3; 0 = no push)
  --workers N           runs at a time on worker threads (default: up to 2 cores)`,
  exits: [],
  flags: {
    out: { type: "string" }, rounds: { type: "string" }, epsilon: { type: "string" }, seeds: { type: "string" }, seed: { type: "string" },
    users: { type: "string" }, movies: { type: "string" }, "history-days": { type: "string" }, "push-group": { type: "string" },
    "push-rounds": { type: "string" }, workers: { type: "string" }, ...FORCE_FLAG,
  },
  schema: z.object({
    _: z.tuple([z.literal("simulate", { error: "expected the sub-command: recsys feedback simulate ..." })], { error: "expected exactly one sub-command: simulate" }),
    out: z.string({ error: "--out DIR is required" }).min(1, "--out needs a path"),
    rounds: intFlag(1, 100).optional(),
    epsilon: epsilonFlag.optional(),
    seeds: intFlag(1, 20).optional(),
    seed: seedFlag,
    users: intFlag(20, 100_000).optional(),
    movies: intFlag(25, 50_000).optional(),
    "history-days": intFlag(1, 365).optional(),
    "push-group": z.enum(PUSH_GROUPS, { error: `must be one of ${PUSH_GROUPS.join(", ")}` }).optional(),
    "push-rounds": intFlag(0, 100).optional(),
    workers: intFlag(1, 16).optional(),
    force: forceFlag,
  }),
  async run(o) {
    const progress = createProgress();
    const report = await simulateFeedback(o.out, {
      rounds: o.rounds, epsilons: o.epsilon, seeds: o.seeds, seed: o.seed, users: o.users, movies: o.movies,
      historyDays: o["history-days"], pushGroup: o["push-group"], pushRounds: o["push-rounds"], workers: o.workers,
    }, { force: o.force, onProgress: (t) => progress.update(t) });
    progress.clear();
    const last = report.settings.rounds;
    const final = Object.fromEntries(report.settings.epsilons.map((e) => [String(e), Object.fromEntries(
      report.series.filter((p) => p.epsilon === e && p.round === last && !p.metric.startsWith("rmse:")).map((p) => [p.metric, p.mean]),
    )]));
    return {
      summary: { out: o.out, settings: report.settings, final, findings: report.findings },
      text: `${report.findings.join("\n")}\nreport: ${o.out}/report.html`,
    };
  },
});
