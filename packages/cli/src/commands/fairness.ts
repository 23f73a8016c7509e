import { z } from "zod";
import { createProgress, EXIT } from "@recsys/core";
import { buildFairnessReport, checkReplaceable, formatFairnessText, loadFairnessConfig, MitigationSchema, writeFairnessReport } from "@recsys/fairness";
import { formatOnlineFairness, onlineFairness, parseDurationMs } from "@recsys/canary";
import { defineCommand } from "../command.ts";
import { FORCE_FLAG, FORCE_HELP, forceFlag, seedFlag } from "../flags.ts";

const reportSchema = z.object({
  _: z.tuple([z.literal("report")], { error: "expected exactly one sub-command: report or online" }),
  model: z.string({ error: "--model MODEL is required" }).min(1, "--model needs a path"),
  data: z.string({ error: "--data DIR is required" }).min(1, "--data needs a path"),
  holdout: z.string().min(1, "--holdout needs a path").optional(),
  out: z.string({ error: "--out DIR is required" }).min(1, "--out needs a path"),
  config: z.string().min(1, "--config needs a path").optional(),
  check: z.boolean().default(false),
  mitigation: MitigationSchema.optional(),
  seed: seedFlag,
  force: forceFlag,
});

const onlineSchema = z.object({
  _: z.tuple([z.literal("online")], { error: "expected exactly one sub-command: report or online" }),
  events: z.string({ error: "--events LOG is required" }).min(1, "--events needs a path"),
  responses: z.array(z.string().min(1, "--responses needs a path"), { error: "--responses DIR is required" }).min(1, "--responses DIR is required"),
  users: z.string({ error: "--users FILE is required" }).min(1, "--users needs a path"),
  "follow-window": z.string().default("10m").transform((s, ctx) => {
    const ms = parseDurationMs(s);
    if (!(ms > 0)) ctx.addIssue({ code: "custom", message: `--follow-window ${s}: expected a duration such as 30s or 10m` });
    return ms;
  }),
});

async function runOnline(o: z.output<typeof onlineSchema>) {
  const f = await onlineFairness({ eventsFile: o.events, responses: o.responses, usersFile: o.users, followWindowMs: o["follow-window"] });
  return { summary: f as unknown as Record<string, unknown>, text: formatOnlineFairness(f) };
}

async function runReport(o: z.output<typeof reportSchema>) {
  const config = await loadFairnessConfig(o.config);
  const output = { inputs: [o.model, o.data, o.holdout, o.config], force: o.force };
  await checkReplaceable(o.out, output);
  const progress = createProgress();
  const report = await buildFairnessReport({ modelDir: o.model, dataDir: o.data, holdoutDir: o.holdout, config, seed: o.seed, mitigation: o.mitigation, onProgress: (t) => progress.update(`fairness: ${t}`) });
  progress.update("fairness: writing the report");
  await writeFairnessReport(o.out, report, output);
  progress.clear();
  const failed = report.requirements.filter((r) => r.status === "fail");
  return {
    summary: { out: o.out, passed: report.passed, mitigation: report.mitigation && { lambda: report.mitigation.lambda, before: report.mitigation.before.overall, after: report.mitigation.after.overall, cost: report.mitigation.cost }, failed: failed.map((r) => `${r.attribute}/${r.metric}`), overall: report.overall, requirements: report.requirements, demographics: report.demographics, heldOut: report.heldOut, model: report.model.modelHash },
    text: `${formatFairnessText(report)}\nreport: ${o.out}/report.html`,
    exitCode: o.check && failed.length > 0 ? EXIT.fairnessFailed : EXIT.ok,
  };
}

export default defineCommand({
  name: "fairness",
  summary: "fairness report: dataset balance and quality per group, disparities with CIs and p-values (--check exits 4)",
  help: `report --model MODEL --data DIR [--holdout DIR] --out DIR [--force] [--config FILE] [--check] [--mitigation calibration:LAMBDA] [--seed S] [--json]
   or: fairness online --events LOG --responses DIR [--responses DIR ...] --users FILE [--follow-window 10m] [--json]

Groups users by gender, age band, age x gender and every other categorical field of DIR's
users.jsonl (occupation); reports dataset balance per group and on the item side, RMSE/MAE and
nDCG/precision/recall@20 per group, what the API serves each group (genre calibration, long-tail
exposure, coverage, Gini), the disparity between groups (difference and ratio, bootstrap 95% CI
resampling users, permutation p-value), the same within profile-size strata, and the
requirements' verdicts. Writes OUT/report.json and OUT/report.html (self-contained, opens offline).
  --model MODEL    artifact from 'recsys train'
  --data DIR       the dataset: users, ratings, watches (and, without --holdout, the one the model trained on)
  --holdout DIR    held-out ratings; default: the model's own split of --data, reproduced from the artifact
  --out DIR        report directory, replaced atomically; only an earlier report is replaced
${FORCE_HELP}
  --config FILE    JSON: ageBands, minGroupSize, bootstrap, permutations, alpha, topN, relevantAt,
                   activityStrata, headShare, requirements [{attribute, metric, maxDifference?, minRatio?}]
  --check          exit 4 when a requirement fails (a significant disparity beyond its threshold)
  --mitigation calibration:LAMBDA
                   also serve every user through the API's calibrated re-ranking (RECSYS_CALIBRATION=LAMBDA,
                   0 < LAMBDA <= 1; needs DIR/movies.jsonl with genres) and report calibration, tail
                   exposure, nDCG, recall, coverage and Gini before and after, with the cost in nDCG
  --seed S         bootstrap and permutation seed (default 42): same seed, same bytes

online: the follow rate (a recommendation followed by a watch of one of its movies within the
follow window) per gender, age band and age x gender group and per release, from production logs:
LOG's watch lines, the replicas' response logs (DIR: files or folders, searched recursively, e.g.
runs/latest/platform/replicas) and the users file; Wilson 95% CIs, and per release the spread
between the highest and lowest group. The canary analysis's parsing and scoring.
  --follow-window D  500ms | 30s | 10m (default 10m, the canary analysis's)`,
  exits: ["fairnessFailed"],
  flags: {
    model: { type: "string" }, data: { type: "string" }, holdout: { type: "string" }, out: { type: "string" },
    config: { type: "string" }, check: { type: "boolean" }, mitigation: { type: "string" }, seed: { type: "string" }, ...FORCE_FLAG,
    events: { type: "string" }, responses: { type: "string", multiple: true }, users: { type: "string" }, "follow-window": { type: "string" },
  },
  // The sub-command picks the schema, so each flag's message is its own.
  schema: z.looseObject({ _: z.tuple([z.enum(["report", "online"], { error: "expected the sub-command report or online" })], { error: "expected one sub-command: report or online" }) }).transform((v, ctx) => {
    const r = v._[0] === "online" ? onlineSchema.safeParse(v) : reportSchema.safeParse(v);
    if (r.success) return r.data;
    for (const issue of r.error.issues) ctx.addIssue({ code: "custom", message: issue.message, path: issue.path });
    return z.NEVER;
  }),
  run: (o) => (o._[0] === "online" ? runOnline(o as z.output<typeof onlineSchema>) : runReport(o as z.output<typeof reportSchema>)),
});
