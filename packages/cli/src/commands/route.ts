import { z } from "zod";
import { createRouter, loadRouterConfig } from "@recsys/router";
import { defineCommand } from "../command.ts";
import { intFlag, noPositionals } from "../flags.ts";

export default defineCommand({
  name: "route",
  summary: "canary router: sticky weighted split over releases, health checks, retries, admin API",
  help: `--config FILE [--port P] [--host H] [--admin-port P] [--workers N] [--json]

Routes GET /recommend/<userid> to a release (sticky per user, weights from the config: by default
a canary at 20% and two stable replicas at 40% each), retries a failed try once on another
healthy upstream within the 800 ms budget, and answers from the last good popular list when
every upstream is down. The public port serves only /recommend/<userid>, /version (from the
stable release), /healthz and /readyz. The admin API (Bearer token: GET /admin/state, POST
/admin/weights, /admin/promote, /admin/rollback, /admin/upstreams, /admin/releases) and /metrics
listen on their own port, on 127.0.0.1 by default. Prints one line with both URLs when ready;
runs until SIGINT/SIGTERM, then drains requests and flushes the event log.
  --config FILE     router config (JSON; schema in packages/router/README.md); none = defaults
  --port P          public TCP port, overrides the config (default 8082; 0 = any free one)
  --host H          interface to bind, overrides the config (default 0.0.0.0)
  --admin-port P    admin and metrics port on admin.host, overrides the config (default 8092)
  --workers N       processes serving the public port, overrides the config (default 1; the
                    admin API, health checks and logs stay in this one)
Env: RECSYS_ADMIN_TOKEN (admin token when the config has none).`,
  exits: [],
  flags: {
    config: { type: "string" },
    port: { type: "string" },
    host: { type: "string" },
    "admin-port": { type: "string" },
    workers: { type: "string" },
  },
  schema: z.object({
    config: z.string().min(1, "--config needs a path").optional(),
    port: intFlag(0, 65535).optional(),
    host: z.string().min(1).optional(),
    "admin-port": intFlag(0, 65535).optional(),
    workers: intFlag(1, 64).optional(),
    _: noPositionals,
  }),
  async run(o, io) {
    const stop = io.waitForStop();
    const config = await loadRouterConfig(o.config, process.env, { port: o.port, host: o.host, adminPort: o["admin-port"], workers: o.workers });
    const router = createRouter(config);
    const { url, adminUrl } = await router.listen();
    const split = router.state().releases.map((r) => `${r.id} ${r.role} ${r.weight}% x${r.upstreams.length}`).join(", ");
    const served = config.workers > 1 ? `; ${config.workers} worker processes` : "";
    io.stdout.write(`routing ${url} (${split}${served}; admin API ${adminUrl} ${config.adminToken ? "on" : "off: no token"})\n`);
    const signal = await stop;
    await router.close();
    const { releases, generation } = router.state();
    return {
      summary: { url, adminUrl, signal, generation, releases, eventLog: config.eventLog?.path ?? null },
      text: `stopped on ${signal}: in-flight requests drained${config.eventLog ? `, event log flushed to ${config.eventLog.path}` : ""}`,
    };
  },
});
