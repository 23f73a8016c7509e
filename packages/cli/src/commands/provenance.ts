import { join } from "node:path";
import { z } from "zod";
import {
  EXIT_BROKEN_CHAIN, collectGarbage, createStore, diffReleases, formatDiff, formatGc, formatLinks, parseAtTime, replicaTelemetryDirs, responseFiles, traceResponse, verifyReleases,
} from "@recsys/provenance";
import { defineCommand } from "../command.ts";
import { intFlag, numberFlag, seedFlag } from "../flags.ts";

const schema = z.object({
  _: z.array(z.string()).min(1, "expected a sub-command: trace, verify, gc or diff").max(3, "takes at most two arguments after the sub-command"),
  telemetry: z.array(z.string().min(1, "--telemetry needs a directory")).default([]),
  state: z.string().min(1).default("runs/platform"),
  store: z.string().min(1).optional(),
  repo: z.string().min(1).default("."),
  user: z.string().regex(/^\d+$/, "--user must be a user id (a whole number)").optional(),
  at: z.string().min(1).optional(),
  all: z.boolean().default(false),
  "keep-last": intFlag(1).optional(),
  "dry-run": z.boolean().default(false),
  grace: numberFlag(0, 30 * 86400).default(3600),
  sample: intFlag(1, 1_000_000).default(500),
  seed: seedFlag,
}).superRefine((o, ctx) => {
  const [sub, arg, arg2] = o._;
  const fail = (message: string) => ctx.addIssue({ code: "custom", message, path: ["_"] });
  if (sub === "trace") {
    if ((arg === undefined) === (o.user === undefined)) fail("trace takes a request id, or --user U --at TIME");
    if ((o.user === undefined) !== (o.at === undefined)) fail("--user and --at go together");
  } else if (sub === "verify") {
    if ((arg === undefined) === !o.all) fail("verify takes a release id or --all");
  } else if (sub === "gc") {
    if (arg !== undefined) fail("gc takes no argument (--keep-last N, --dry-run)");
  } else if (sub === "diff") {
    if (arg2 === undefined) fail("diff takes two release ids: RELEASE_A RELEASE_B");
  } else fail(`unknown sub-command '${sub}': expected trace, verify, gc or diff`);
  if (sub !== "diff" && arg2 !== undefined) fail(`${sub} takes at most one argument`);
});

export default defineCommand({
  name: "provenance",
  summary: "trace a past answer to its release, model, data and commit; verify releases against their hashes",
  help: `trace <request-id> [--telemetry DIR ...] [--state DIR] [--store DIR] [--repo DIR] [--json]
   or: provenance trace --user U --at TIME [same flags]
   or: provenance verify <release-id>|--all [--state DIR] [--store DIR] [--repo DIR] [--json]
   or: provenance gc [--keep-last N] [--dry-run] [--grace S] [--state DIR] [--store DIR] [--json]
   or: provenance diff RELEASE_A RELEASE_B [--sample N] [--seed S] [--state DIR] [--store DIR] [--repo DIR] [--json]

trace finds the response in the replicas' response logs and prints the chain: the response
(time, user, ids with exploration slots marked *, latency) -> the release (verdict, reason,
canary report) -> the model (hash re-computed from its directory, or from the store when the
directory is gone) -> the training data (likewise; row counts, time range) -> the commit
(subject, author, date, whether a branch still contains it). --user U --at TIME picks the last
answer user U got at or before TIME (ISO 8601, UTC unless it has Z or an offset).
verify re-computes the model and data hashes of a release (or of every release) and checks its
manifest and commit.
gc removes from the store what no release of the history (or of the last N) needs; never what
the running platform serves, nor objects younger than --grace seconds (default 3600: a put in
progress). --dry-run lists what would go.
diff shows what changed from A to B: commits (git log A..B), params, data (ratings added, new
users and movies), gate metrics, and the share of a seeded sample of users whose top 20 changed.
  --telemetry DIR   a replica's response log directory; repeat (default: STATE/replicas/*/)
  --state DIR       platform state directory: releases.jsonl, reports/ (default runs/platform)
  --store DIR       content-addressed store that 'recsys deploy' fills (default STATE/cache)
  --repo DIR        git repository the releases were built from (default .)
  --keep-last N     gc: keep only the last N releases of the history (default all)
  --sample N        diff: users sampled for the top-20 comparison (default 500), drawn with --seed (default 42)
A broken link (a hash that no longer matches, a model or dataset found nowhere, a commit
rewritten away) is printed with what was expected and what was found.`,
  exits: ["brokenChain"],
  flags: {
    telemetry: { type: "string", multiple: true },
    state: { type: "string" },
    store: { type: "string" },
    repo: { type: "string" },
    user: { type: "string" },
    at: { type: "string" },
    all: { type: "boolean" },
    "keep-last": { type: "string" },
    "dry-run": { type: "boolean" },
    grace: { type: "string" },
    sample: { type: "string" },
    seed: { type: "string" },
  },
  schema,
  async run(o) {
    const sources = { stateDir: o.state, store: createStore(o.store ?? join(o.state, "cache")), repoDir: o.repo };
    const [sub, arg, arg2] = o._;
    if (sub === "gc") {
      const r = await collectGarbage(o.state, sources.store, { keepLast: o["keep-last"], dryRun: o["dry-run"], graceMs: Math.round(o.grace * 1000) });
      return { summary: r as unknown as Record<string, unknown>, text: formatGc(r) };
    }
    if (sub === "diff") {
      const d = await diffReleases(arg!, arg2!, sources, { sample: o.sample, seed: o.seed });
      return { summary: d as unknown as Record<string, unknown>, text: formatDiff(d) };
    }
    if (sub === "verify") {
      const checks = await verifyReleases(o.all ? "all" : arg!, sources);
      const text = checks.map((c) => `release ${c.releaseId}\n${formatLinks(c.links)}`).join("\n");
      return { summary: { ok: checks.every((c) => c.ok), releases: checks }, text, exitCode: checks.every((c) => c.ok) ? 0 : EXIT_BROKEN_CHAIN };
    }
    const files = await responseFiles(o.telemetry.length ? o.telemetry : await replicaTelemetryDirs(o.state));
    const query = arg !== undefined ? { requestId: arg } : { userId: o.user!, atUs: parseAtTime(o.at!) };
    const trace = await traceResponse(files, query, sources);
    const retries = trace.otherAttempts.map((r) => `also logged: ${r.where} status ${r.status} (release ${r.release})\n`).join("");
    return { summary: trace as unknown as Record<string, unknown>, text: formatLinks(trace.links) + retries, exitCode: trace.ok ? 0 : EXIT_BROKEN_CHAIN };
  },
});
