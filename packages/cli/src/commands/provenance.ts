import { join } from "node:path";
import { z } from "zod";
import {
  EXIT_BROKEN_CHAIN, createStore, formatLinks, parseAtTime, replicaTelemetryDirs, responseFiles, traceResponse, verifyReleases,
} from "@recsys/provenance";
import { defineCommand } from "../command.ts";

const schema = z.object({
  _: z.array(z.string()).min(1, "expected a sub-command: trace or verify").max(2, "takes at most one argument after the sub-command"),
  telemetry: z.array(z.string().min(1, "--telemetry needs a directory")).default([]),
  state: z.string().min(1).default("runs/platform"),
  store: z.string().min(1).optional(),
  repo: z.string().min(1).default("."),
  user: z.string().regex(/^\d+$/, "--user must be a user id (a whole number)").optional(),
  at: z.string().min(1).optional(),
  all: z.boolean().default(false),
}).superRefine((o, ctx) => {
  const [sub, arg] = o._;
  const fail = (message: string) => ctx.addIssue({ code: "custom", message, path: ["_"] });
  if (sub === "trace") {
    if ((arg === undefined) === (o.user === undefined)) fail("trace takes a request id, or --user U --at TIME");
    if ((o.user === undefined) !== (o.at === undefined)) fail("--user and --at go together");
  } else if (sub === "verify") {
    if ((arg === undefined) === !o.all) fail("verify takes a release id or --all");
  } else fail(`unknown sub-command '${sub}': expected trace or verify`);
});

export default defineCommand({
  name: "provenance",
  summary: "trace a past answer to its release, model, data and commit; verify releases against their hashes",
  help: `trace <request-id> [--telemetry DIR ...] [--state DIR] [--store DIR] [--repo DIR] [--json]
   or: provenance trace --user U --at TIME [same flags]
   or: provenance verify <release-id>|--all [--state DIR] [--store DIR] [--repo DIR] [--json]

trace finds the response in the replicas' response logs and prints the chain: the response
(time, user, ids with exploration slots marked *, latency) -> the release (verdict, reason,
canary report) -> the model (hash re-computed from its directory, or from the store when the
directory is gone) -> the training data (likewise; row counts, time range) -> the commit
(subject, author, date, whether a branch still contains it). --user U --at TIME picks the last
answer user U got at or before TIME (ISO 8601, UTC unless it has Z or an offset).
verify re-computes the model and data hashes of a release (or of every release) and checks its
commit.
  --telemetry DIR   a replica's response log directory; repeat (default: STATE/replicas/*/)
  --state DIR       platform state directory: releases.jsonl, reports/ (default runs/platform)
  --store DIR       content-addressed store that 'recsys deploy' fills (default STATE/cache)
  --repo DIR        git repository the releases were built from (default .)
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
  },
  schema,
  async run(o) {
    const sources = { stateDir: o.state, store: createStore(o.store ?? join(o.state, "cache")), repoDir: o.repo };
    const [sub, arg] = o._;
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
