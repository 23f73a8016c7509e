import { z } from "zod";
import { analyzeCanaryFiles, formatCanaryText, writeCanaryReport, type LoadStats } from "@recsys/canary";
import { defineCommand } from "../command.ts";

const list = z.array(z.string()).default([]).transform((values) => values.flatMap((v) => v.split(",")).map((v) => v.trim()).filter((v) => v !== ""));

const schema = z.object({
  _: z.tuple([z.literal("analyze", { error: "expected the sub-command: recsys canary analyze ..." })], { error: "expected exactly one sub-command: analyze" }),
  events: z.string({ error: "--events FILE is required" }).min(1, "--events needs a path"),
  telemetry: list,
  "served-by": z.string().min(1, "--served-by needs a path").optional(),
  canary: z.string({ error: "--canary RELEASE is required" }).min(1, "--canary needs a release id"),
  stable: list,
  window: z.string().min(1, "--window needs a value").optional(),
  config: z.string().min(1, "--config needs a path").optional(),
  users: z.string().min(1, "--users needs a path").optional(),
  report: z.string().min(1, "--report needs a path").optional(),
  force: z.boolean().default(false),
});

function loadLine(name: string, s: LoadStats, what: string): string {
  const reasons = Object.entries(s.badByReason).map(([r, n]) => `${r} ${n}`).join(", ");
  return `${name}: ${s.lines} lines, ${what}, ${s.bad} bad skipped${reasons ? ` (${reasons})` : ""}`;
}

export default defineCommand({
  name: "canary",
  summary: "compare a canary release with the stable ones: promote, continue or roll back, with evidence",
  help: `analyze --events FILE [--telemetry F[,F...]] [--served-by F] --canary RELEASE [--stable R1,R2]
         [--window SPEC] [--config FILE] [--users FILE] [--report OUT.html [--force]] [--json]

  --events FILE      event stream: watch lines (quality), and request lines unless --telemetry is given
  --telemetry F      API response logs (TELEMETRY_HEADER CSV, or a directory of them): the requests,
                     each with the release that served it; repeat or comma-separate
  --served-by F      router log (time,user_id,release,...) naming each event request line's release;
                     default FILE.releases.csv next to --events when it exists
  --canary RELEASE   the release under test
  --stable R1,R2     baseline releases, pooled (default: every other release in the window)
  --window SPEC      15m | 12h | 600 (seconds) back from the last request, or FROM..TO
                     (ISO times, zone-less = UTC); default: all the data
  --config FILE      JSON thresholds: minSuccessRate, maxP99Ms, minRequestsForRollback, minRequests,
                     followWindowMs, alpha, minSamplesForQuality, minSamplesPerGroup, timeSeriesBuckets
  --users FILE       users.jsonl (user_id, gender, age): follow rate per gender, age band and age x gender
                     for canary and stable; a group significantly worse on the canary (one-sided
                     two-proportion test, Holm-corrected over the groups) makes the verdict rollback
  --report OUT.html  write a self-contained HTML report with charts (replaces only an earlier report)
  --force            replace a --report file recsys did not write (never an input, a folder or a device)
  --json             print the whole analysis as one JSON object

Exit 0 with any verdict (read it from the output).`,
  exits: [],
  flags: {
    events: { type: "string" },
    telemetry: { type: "string", multiple: true },
    "served-by": { type: "string" },
    canary: { type: "string" },
    stable: { type: "string", multiple: true },
    window: { type: "string" },
    config: { type: "string" },
    users: { type: "string" },
    report: { type: "string" },
    force: { type: "boolean" },
  },
  schema,
  async run(o) {
    const { analysis, inputs } = await analyzeCanaryFiles({
      eventsFile: o.events, telemetryFiles: o.telemetry, servedByFile: o["served-by"],
      canary: o.canary, stable: o.stable, window: o.window, configFile: o.config, usersFile: o.users,
    });
    const read = [o.events, ...o.telemetry, inputs.servedByFile ?? undefined, o.config, o.users];
    if (o.report) await writeCanaryReport(o.report, analysis, { inputs: read, force: o.force });
    const loads = [
      loadLine(`events ${o.events}`, inputs.events, `${inputs.events.requests} request lines, ${inputs.events.watches} viewings`),
      ...(inputs.telemetry ? [loadLine("telemetry", inputs.telemetry, `${inputs.telemetry.requests} requests`)] : []),
      `requests analysed from ${inputs.requestsFrom}${inputs.servedByFile ? `, releases from ${inputs.servedByFile}` : ""}`,
    ];
    const text = [...loads, "", formatCanaryText(analysis), ...(o.report ? [`report: ${o.report}`] : [])].join("\n");
    return { summary: { ...analysis, inputs, report: o.report ?? null }, text };
  },
});
