import { z } from "zod";
import { loadCanaryConfig } from "@recsys/canary";
import { join } from "node:path";
import { DRIVERS, FRONTS, deployToRunningPlatform, initDockerPlatform, initPlatform, releaseExitCode, stopDockerPlatform, stopStandalonePlatform } from "@recsys/deploy";
import { checkTrainingData, createStore, keepReleases } from "@recsys/provenance";
import { fairnessGate, loadFairnessConfig } from "@recsys/fairness";
import { defineCommand } from "../command.ts";
import { intFlag, noPositionals, numberFlag } from "../flags.ts";

export default defineCommand({
  name: "deploy",
  summary: "canary-deploy a model to the running platform: analyse, then promote or roll back",
  help: `--model DIR [--driver process|docker] [--front router|nginx] [--state DIR] [--router URL] [--interval S] [--max-wait S]
       [--on-max-wait rollback|promote] [--canary-weight N] [--drain MS] [--canary-config FILE]
       [--watches FILE] [--users FILE] [--data DIR] [--fairness-config FILE] [--store DIR] [--allow-dirty] [--json]
   or: deploy --init --model DIR [--driver docker --front nginx] [--state DIR] [--replicas N] [--router-port P] [--data DIR] [--store DIR] [--allow-dirty]
   or: deploy --down [--driver docker] [--state DIR]

Refuses a model that failed the training gate (exit 3) or a corrupt one (exit 2) before anything
starts. Starts the model as one canary replica, gives it N% of the router's traffic, and every
S seconds analyses the window since then (success rate, p99, quality; see packages/canary)
until the verdict is promote or rollback. Promote replaces the stable replicas one at a time
(each old one drains before it stops); rollback sets the canary weight to 0 at once and stops
it. With --data, the fairness requirements are checked first, on the model's held-out split of
DIR (packages/fairness): a model that fails one is refused before anything starts. The outcome
(a refusal with its evidence too) is appended to STATE/releases.jsonl, and the release's manifest
(commit, branch, data and model md5s, params, gate metrics, CI job, who and when) to
STATE/manifests/<id>.json before its first replica starts. Exit 0 when promoted, 4 when refused by
the fairness gate, 5 when rolled back.
  --model DIR            model artifact directory
  --driver NAME          where replicas run: process (default) or docker (image RECSYS_IMAGE, default recsys:latest)
  --front NAME           what moves traffic: router (default; the project's router, admin API) or nginx
                         (--driver docker only: nginx's config is rendered from the deployment state,
                         checked with nginx -t in its container and reloaded without dropping a request)
  --state DIR            platform state directory: state.json, releases.jsonl (default runs/platform)
  --router URL           the router's admin URL (default: the one in STATE/state.json; the
                         admin API listens apart from the public port, on 127.0.0.1:8092)
  --interval S           seconds between analyses (default 10)
  --max-wait S           no verdict after S seconds: --on-max-wait decides (default 600)
  --on-max-wait V        rollback (default) or promote
  --canary-weight N      canary share of traffic in percent, 1..99 (default 20)
  --drain MS             time an old replica keeps finishing requests before SIGTERM (default 500)
  --canary-config FILE   canary thresholds (JSON, any subset; schema in packages/canary)
  --watches FILE         event stream with watch lines, for the quality test
  --users FILE           users.jsonl: the quality test per gender / age / age x gender group too; a
                         group significantly worse on the canary (Holm-corrected) rolls it back
  --data DIR             the dataset the model was trained on (checked against its dataHash
                         before anything starts); kept in the store for 'recsys provenance';
                         its users and held-out split feed the fairness gate
  --fairness-config FILE fairness requirements and resamples (JSON, as 'recsys fairness report
                         --config'; default: gender and age, nDCG <= 0.05, RMSE <= 0.1); needs --data
  --store DIR            provenance store the release's model (and --data) are put into once
                         the release is recorded (default STATE/cache)
  --allow-dirty          release from a git tree with uncommitted changes (else refused, exit 2);
                         recorded in the manifest (RECSYS_ALLOW_DIRTY=1 does the same)
  --init                 start a platform instead: N stable replicas of DIR (default 2) and a
                         router on port P (default 8082), as detached processes; then exit.
                         With --driver docker --front nginx: N replica containers and an nginx
                         container (image RECSYS_NGINX_IMAGE, default recsys-nginx:offline) on P
  --down                 stop the platform started by --init (router first, then the replicas)
One canary at a time: while another deploy holds the platform (the main job's own canary), this
one waits its turn (Ctrl-C gives up, nothing started); the main job skips its cycle's canary
while this one runs.
Env: RECSYS_ADMIN_TOKEN (router admin token, with --front router; when unset, the STATE/admin-token file that a
platform started without one wrote, readable by its owner only), RECSYS_GIT_COMMIT (else git
rev-parse HEAD).`,
  exits: ["gateFailed", "fairnessFailed", "rolledBack"],
  flags: {
    model: { type: "string" },
    driver: { type: "string" },
    front: { type: "string" },
    state: { type: "string" },
    router: { type: "string" },
    interval: { type: "string" },
    "max-wait": { type: "string" },
    "on-max-wait": { type: "string" },
    "canary-weight": { type: "string" },
    drain: { type: "string" },
    "canary-config": { type: "string" },
    watches: { type: "string" },
    users: { type: "string" },
    data: { type: "string" },
    "fairness-config": { type: "string" },
    store: { type: "string" },
    "allow-dirty": { type: "boolean" },
    init: { type: "boolean" },
    down: { type: "boolean" },
    replicas: { type: "string" },
    "router-port": { type: "string" },
  },
  schema: z.object({
    model: z.string().min(1).optional(),
    driver: z.enum(DRIVERS).default("process"),
    front: z.enum(FRONTS).default("router"),
    state: z.string().min(1).default("runs/platform"),
    router: z.url({ protocol: /^http$/, error: "--router must be an http:// URL" }).optional(),
    interval: numberFlag(0.05, 3600).default(10),
    "max-wait": numberFlag(0.1, 7 * 86400).default(600),
    "on-max-wait": z.enum(["rollback", "promote"]).default("rollback"),
    "canary-weight": intFlag(1, 99).default(20),
    drain: intFlag(0, 60_000).default(500),
    "canary-config": z.string().min(1).optional(),
    watches: z.string().min(1).optional(),
    users: z.string().min(1).optional(),
    data: z.string().min(1).optional(),
    "fairness-config": z.string().min(1).optional(),
    store: z.string().min(1).optional(),
    "allow-dirty": z.boolean().default(false),
    init: z.boolean().default(false),
    down: z.boolean().default(false),
    replicas: intFlag(1, 16).default(2),
    "router-port": intFlag(0, 65535).default(8082),
    _: noPositionals,
  }).refine((o) => o.down || o.model !== undefined, { message: "--model DIR is required", path: ["model"] })
    .refine((o) => !(o.init && o.down), { message: "--init and --down do not go together", path: ["init"] })
    .refine((o) => !o["fairness-config"] || o.data, { message: "--fairness-config needs --data DIR (the dataset the model was trained on: its users and held-out split)", path: ["fairness-config"] })
    .refine((o) => o.front === "router" || o.driver === "docker", { message: "--front nginx needs --driver docker", path: ["front"] })
    .refine((o) => !o.init || (o.driver === "docker") === (o.front === "nginx"), { message: "--init starts either processes behind the router or containers behind nginx: use --driver docker with --front nginx", path: ["init"] }),
  async run(o, io) {
    if (o.down) {
      const stopped = o.driver === "docker" ? await stopDockerPlatform(o.state) : await stopStandalonePlatform(o.state);
      return { summary: { stopped }, text: `stopped ${stopped.join(", ")}` };
    }
    if (o.data) await checkTrainingData(o.model!, o.data);
    // Once a release is recorded its model and data go into the store, so a trace outlives them.
    const archive = async () => {
      for (const line of await keepReleases(o.state, createStore(o.store ?? join(o.state, "cache")), { dataDir: o.data })) io.stderr.write(`deploy: ${line}\n`);
    };
    if (o.init && o.front === "nginx") {
      const state = await initDockerPlatform({
        modelDir: o.model!, stateDir: o.state, replicas: o.replicas, port: o["router-port"], env: process.env,
        image: process.env.RECSYS_IMAGE, nginxImage: process.env.RECSYS_NGINX_IMAGE,
      });
      await archive();
      return {
        summary: state as unknown as Record<string, unknown>,
        text: `platform up: nginx ${state.router.url}, release ${state.stable.releaseId} on containers ${state.replicas.map((r) => r.url).join(", ")}; state in ${o.state}`,
      };
    }
    if (o.init) {
      const state = await initPlatform({ modelDir: o.model!, stateDir: o.state, replicas: o.replicas, routerPort: o["router-port"], adminToken: process.env.RECSYS_ADMIN_TOKEN, env: process.env, allowDirty: o["allow-dirty"] });
      await archive();
      return {
        summary: state as unknown as Record<string, unknown>,
        text: `platform up: router ${state.router.url} (pid ${state.router.pid}), release ${state.stable.releaseId} on ${state.replicas.map((r) => r.url).join(", ")}; state in ${o.state}`,
      };
    }
    const fairnessConfig = o.data ? await loadFairnessConfig(o["fairness-config"]) : undefined;
    const abort = new AbortController();
    io.waitForStop().then(() => abort.abort());
    const record = await deployToRunningPlatform({
      modelDir: o.model!, driver: o.driver, front: o.front, stateDir: o.state, routerUrl: o.router, adminToken: process.env.RECSYS_ADMIN_TOKEN, env: process.env,
      intervalMs: Math.round(o.interval * 1000), maxWaitMs: Math.round(o["max-wait"] * 1000), onMaxWait: o["on-max-wait"],
      canaryWeight: o["canary-weight"], drainMs: o.drain, watchesPath: o.watches, usersPath: o.users, allowDirty: o["allow-dirty"],
      canary: o["canary-config"] ? await loadCanaryConfig(o["canary-config"]) : undefined,
      signal: abort.signal, log: (line) => io.stderr.write(`deploy: ${line}\n`),
      fairness: fairnessConfig && ((modelDir) => fairnessGate({ modelDir, dataDir: o.data!, config: fairnessConfig, seed: 42 })),
    });
    await archive();
    return {
      summary: record as unknown as Record<string, unknown>,
      text: `release ${record.releaseId} ${record.verdict}: ${record.reason}\nrecorded in ${o.state}/releases.jsonl (model ${record.modelId}, commit ${record.commit.slice(0, 12)})`,
      exitCode: releaseExitCode(record),
    };
  },
});
