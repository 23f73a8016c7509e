import { z } from "zod";
import { join } from "node:path";
import { createProgress, DATASET_FILES, formatRatingScale, parseRatingScale, type RatingScale } from "@recsys/core";
import { formatQualitySummary, importMovieLens, ingestEvents, rejectShareWarning, type IngestSummary } from "@recsys/ingest";
import { defineCommand } from "../command.ts";
import { FORCE_FLAG, FORCE_HELP, forceFlag, noPositionals, numberFlag } from "../flags.ts";

const path = (flag: string) => z.string().min(1, `${flag} needs a path`);

const schema = z.object({
  events: path("--events").optional(),
  movielens: path("--movielens").optional(),
  users: path("--users").optional(),
  movies: path("--movies").optional(),
  telemetry: z.array(z.string()).default([]).transform((list) => list.flatMap((v) => v.split(",")).filter((v) => v !== "")),
  out: z.string({ error: "--out DIR is required" }).min(1, "--out DIR is required"),
  strict: z.boolean().default(false),
  "max-reject-share": numberFlag(0, 1).optional(),
  "rating-scale": z.string().transform((text, ctx): RatingScale => {
    const scale = parseRatingScale(text);
    if (!scale) ctx.addIssue({ code: "custom", message: `--rating-scale ${JSON.stringify(text)}: give MIN,MAX,STEP with MAX > MIN in whole steps, e.g. 0.5,5,0.5` });
    return scale ?? { min: 1, max: 5, step: 1 };
  }).optional(),
  force: forceFlag,
  _: noPositionals,
}).superRefine((o, ctx) => {
  if ((o.events === undefined) === (o.movielens === undefined)) ctx.addIssue({ code: "custom", message: "give exactly one of --events FILE|- or --movielens DIR" });
  if (o.movielens !== undefined && (o.users || o.movies || o.telemetry.length || o.strict)) {
    ctx.addIssue({ code: "custom", message: "--users, --movies, --telemetry and --strict go with --events, not --movielens" });
  }
  if (o.events !== undefined && o["rating-scale"]) ctx.addIssue({ code: "custom", message: "--rating-scale goes with --movielens: the event stream's scale is always 1..5 step 1" });
});

function figures(s: IngestSummary): Record<string, unknown> {
  return { outDir: s.outDir, dataHash: s.dataHash, counts: s.counts, timeRange: s.timeRange, ratingScale: s.ratingScale, quality: s.quality };
}

export default defineCommand({
  name: "ingest",
  summary: "validate an event stream or MovieLens files into a canonical dataset",
  help: `--events FILE|- [--users F] [--movies F] [--telemetry F[,F...]] [--strict] [--max-reject-share X] --out DIR [--force]
       recsys ingest --movielens DIR [--rating-scale MIN,MAX,STEP] [--max-reject-share X] --out DIR [--force]

  --events FILE|-   event log (one event per line); "-" reads stdin
  --users F         user side info (JSON array or JSON lines of {user_id, age, gender, occupation})
  --movies F        movie side info (JSON array or JSON lines of movie records)
  --telemetry F     API response log (CSV with the telemetry header, plain or the rotated .csv.gz) or a directory of them; repeat or comma-separate
  --strict          reject events whose user or movie is missing from a given side file
  --movielens DIR   import ml-100k (u.data, u.item, u.user) or ml-latest (ratings.csv, movies.csv); LF or CRLF
  --rating-scale MIN,MAX,STEP  the MovieLens ratings' scale (e.g. 0.5,5,0.5); default: detected, whole
                    stars 1,5,1 when every rating is one, else half stars 0.5,5,0.5. Off-scale rows are
                    rejected; the manifest records the scale and training, evaluation and serving use it
  --max-reject-share X  refuse (exit 2, nothing written) when more than this share of non-blank
                    lines is rejected (0..1, default 0.5); above 5% a warning goes to stderr.
                    Nothing accepted at all (an empty or foreign file) is always exit 2
  --out DIR         dataset directory to write (replaced atomically, only if it holds a dataset)
${FORCE_HELP}
  --json            print the figures as one JSON object instead of the quality summary`,
  exits: [],
  flags: {
    events: { type: "string" },
    movielens: { type: "string" },
    users: { type: "string" },
    movies: { type: "string" },
    telemetry: { type: "string", multiple: true },
    out: { type: "string" },
    strict: { type: "boolean" },
    "max-reject-share": { type: "string" },
    "rating-scale": { type: "string" },
    ...FORCE_FLAG,
  },
  schema,
  async run(o, io) {
    const summary = o.movielens !== undefined
      ? await importMovieLens({ dir: o.movielens, outDir: o.out, maxRejectShare: o["max-reject-share"], force: o.force, ratingScale: o["rating-scale"] })
      : await ingestEvents({
        input: o.events === "-" ? io.stdin : o.events!, inputName: o.events === "-" ? "stdin" : undefined, usersFile: o.users, moviesFile: o.movies,
        telemetryFiles: o.telemetry, outDir: o.out, force: o.force, strict: o.strict, maxRejectShare: o["max-reject-share"], progress: createProgress(),
      });
    const warning = rejectShareWarning(summary.quality);
    if (warning) io.stderr.write(`recsys ingest: ${warning}; the rejected lines are in ${join(summary.outDir, DATASET_FILES.rejects)}\n`);
    const text = `${formatQualitySummary(summary.quality)}rating scale: ${formatRatingScale(summary.ratingScale)}\ndataset: ${summary.outDir} (dataHash ${summary.dataHash})\n`;
    return { summary: figures(summary), text };
  },
});
