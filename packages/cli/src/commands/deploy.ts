import { z } from "zod";
import { loadCanaryConfig } from "@recsys/canary";
import { DRIVERS, deployToRunningPlatform } from "@recsys/deploy";
import { defineCommand } from "../command.ts";
import { intFlag, noPositionals, numberFlag } from "../flags.ts";

export default defineCommand({
  name: "deploy",
  summary: "canary-deploy a model to the running platform: analyse, then promote or roll back",
  help: `--model DIR [--driver process] [--state DIR] [--router URL] [--interval S] [--max-wait S]
       [--on-max-wait rollback|promote] [--canary-weight N] [--drain MS] [--canary-config FILE]
       [--watches FILE] [--json]

Refuses a model that failed the training gate (exit 3) or a corrupt one (exit 2) before anything
starts. Starts the model as one canary replica, gives it N% of the router's traffic, and every
S seconds analyses the window since then (success rate, p99, quality; see packages/canary)
until the verdict is promote or rollback. Promote replaces the stable replicas one at a time
(each old one drains before it stops); rollback sets the canary weight to 0 at once and stops
it. The outcome is appended to STATE/releases.jsonl. Exit 0 when promoted, 1 when rolled back.
  --model DIR            model artifact directory
  --driver NAME          where replicas run: process (default; docker comes later)
  --state DIR            platform state directory: state.json, releases.jsonl (default runs/platform)
  --router URL           router base URL (default: the one in STATE/state.json)
  --interval S           seconds between analyses (default 10)
  --max-wait S           no verdict after S seconds: --on-max-wait decides (default 600)
  --on-max-wait V        rollback (default) or promote
  --canary-weight N      canary share of traffic in percent, 1..99 (default 20)
  --drain MS             time an old replica keeps finishing requests before SIGTERM (default 500)
  --canary-config FILE   canary thresholds (JSON, any subset; schema in packages/canary)
  --watches FILE         event stream with watch lines, for the quality test
Env: RECSYS_ADMIN_TOKEN (router admin token, required), RECSYS_GIT_COMMIT (else git rev-parse HEAD).`,
  flags: {
    model: { type: "string" },
    driver: { type: "string" },
    state: { type: "string" },
    router: { type: "string" },
    interval: { type: "string" },
    "max-wait": { type: "string" },
    "on-max-wait": { type: "string" },
    "canary-weight": { type: "string" },
    drain: { type: "string" },
    "canary-config": { type: "string" },
    watches: { type: "string" },
  },
  schema: z.object({
    model: z.string({ error: "--model DIR is required" }).min(1),
    driver: z.enum(DRIVERS).default("process"),
    state: z.string().min(1).default("runs/platform"),
    router: z.url({ protocol: /^http$/, error: "--router must be an http:// URL" }).optional(),
    interval: numberFlag(0.05, 3600).default(10),
    "max-wait": numberFlag(0.1, 7 * 86400).default(600),
    "on-max-wait": z.enum(["rollback", "promote"]).default("rollback"),
    "canary-weight": intFlag(1, 99).default(20),
    drain: intFlag(0, 60_000).default(500),
    "canary-config": z.string().min(1).optional(),
    watches: z.string().min(1).optional(),
    _: noPositionals,
  }),
  async run(o, io) {
    const abort = new AbortController();
    io.waitForStop().then(() => abort.abort());
    const record = await deployToRunningPlatform({
      modelDir: o.model, driver: o.driver, stateDir: o.state, routerUrl: o.router, adminToken: process.env.RECSYS_ADMIN_TOKEN, env: process.env,
      intervalMs: Math.round(o.interval * 1000), maxWaitMs: Math.round(o["max-wait"] * 1000), onMaxWait: o["on-max-wait"],
      canaryWeight: o["canary-weight"], drainMs: o.drain, watchesPath: o.watches,
      canary: o["canary-config"] ? await loadCanaryConfig(o["canary-config"]) : undefined,
      signal: abort.signal, log: (line) => io.stderr.write(`deploy: ${line}\n`),
    });
    const { evidence: _evidence, ...summary } = record;
    return {
      summary: record as unknown as Record<string, unknown>,
      text: `release ${record.releaseId} ${record.verdict}: ${record.reason}\n${JSON.stringify(summary)}`,
      exitCode: record.verdict === "promoted" ? 0 : 1,
    };
  },
});
