import { z } from "zod";
import { createApiServer, resolveApiConfig } from "@recsys/api";
import { defineCommand } from "../command.ts";
import { intFlag, noPositionals, numberFlag } from "../flags.ts";

export default defineCommand({
  name: "serve",
  summary: "serve recommendations over HTTP from a model artifact (hot swap, telemetry log, metrics)",
  help: `--model DIR [--models-root DIR] [--port P] [--host H] [--release ID] [--log-dir DIR] [--explore SHARE] [--popularity-prior W] [--watch] [--json]

Loads the model artifact in DIR (refused with exit 2 if corrupt or gate-failed), answers
GET /recommend/<userid>, /healthz, /readyz, /version, /metrics and POST /admin/reload, and logs
every recommendation response to LOG-DIR/responses-YYYYMMDD[-n].csv. Prints one line with the
URL when ready; runs until SIGINT/SIGTERM, then drains requests and flushes the log.
  --model DIR       model artifact directory (env RECSYS_MODEL_DIR)
  --models-root DIR /admin/reload loads only model directories under DIR, symlinks resolved
                    (default: the parent of --model, e.g. models/; env RECSYS_MODELS_ROOT)
  --port P          TCP port, 0 = any free one (default 8080, env RECSYS_PORT)
  --host H          interface to bind (default 127.0.0.1, env RECSYS_HOST)
  --release ID      release id recorded in headers, logs and metrics (default dev, env RECSYS_RELEASE)
  --log-dir DIR     response log directory (default logs/api, env RECSYS_LOG_DIR)
  --explore SHARE   share of the 20 slots given to exploration, 0..0.5 (default 0, env RECSYS_EXPLORE)
  --popularity-prior W
                    rank a known user's movies by score + W x ln(1 + popularity), 0..10 (default 0:
                    the model alone; about 1 beats the popularity list on nDCG@20, see bench/ranking.ts;
                    env RECSYS_POPULARITY_PRIOR)
  --watch           reload when the model directory changes on disk
Env: RECSYS_GIT_COMMIT (else git rev-parse HEAD), RECSYS_ADMIN_TOKEN (enables /admin/reload),
RECSYS_CACHE_SIZE (cached users, 0 = off; default 50000).`,
  exits: [],
  flags: {
    model: { type: "string" },
    "models-root": { type: "string" },
    port: { type: "string" },
    host: { type: "string" },
    release: { type: "string" },
    "log-dir": { type: "string" },
    explore: { type: "string" }, "popularity-prior": { type: "string" },
    watch: { type: "boolean" },
  },
  schema: z.object({
    model: z.string().min(1).optional(),
    "models-root": z.string().min(1).optional(),
    port: intFlag(0, 65535).optional(),
    host: z.string().min(1).optional(),
    release: z.string().min(1).optional(),
    "log-dir": z.string().min(1).optional(),
    explore: numberFlag(0, 0.5).optional(),
    "popularity-prior": numberFlag(0, 10).optional(),
    watch: z.boolean().optional(),
    _: noPositionals,
  }),
  async run(o, io) {
    const stop = io.waitForStop();
    const config = resolveApiConfig(
      { modelDir: o.model, modelsRoot: o["models-root"], port: o.port, host: o.host, release: o.release, logDir: o["log-dir"], exploreShare: o.explore, popularityPrior: o["popularity-prior"], watch: o.watch },
      process.env,
    );
    const api = createApiServer(config);
    const { url } = await api.listen();
    const meta = api.state()!.model.meta;
    io.stdout.write(`serving ${url} (model ${meta.modelHash.slice(0, 12)} from ${config.modelDir}, release ${config.release}, commit ${config.commit.slice(0, 12)})\n`);
    const signal = await stop;
    await api.close();
    return {
      summary: { url, signal, release: config.release, commit: config.commit, modelHash: api.state()?.model.meta.modelHash ?? null, logDir: config.logDir },
      text: `stopped on ${signal}: in-flight requests drained, response log flushed to ${config.logDir}`,
    };
  },
});
