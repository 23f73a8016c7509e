import { z } from "zod";
import { createRouter, loadRouterConfig } from "@recsys/router";
import { defineCommand } from "../command.ts";
import { intFlag, noPositionals } from "../flags.ts";

export default defineCommand({
  name: "route",
  summary: "canary router: sticky weighted split over releases, health checks, retries, admin API",
  help: `--config FILE [--port P] [--host H] [--json]

Routes GET /recommend/<userid> to a release (sticky per user, weights from the config: by default
a canary at 20% and two stable replicas at 40% each), retries a failed try once on another
healthy upstream within the 800 ms budget, and answers from the last good popular list when
every upstream is down. Admin API (Bearer token): GET /admin/state, POST /admin/weights,
/admin/promote, /admin/rollback, /admin/upstreams, /admin/releases. Serves /metrics, /healthz,
/readyz. Prints one line with the URL when ready; runs until SIGINT/SIGTERM, then drains
requests and flushes the event log.
  --config FILE   router config (JSON; schema in packages/router/README.md); none = defaults
  --port P        TCP port, overrides the config (default 8082; 0 = any free one)
  --host H        interface to bind, overrides the config (default 0.0.0.0)
Env: RECSYS_ADMIN_TOKEN (admin token when the config has none).`,
  exits: [],
  flags: {
    config: { type: "string" },
    port: { type: "string" },
    host: { type: "string" },
  },
  schema: z.object({
    config: z.string().min(1, "--config needs a path").optional(),
    port: intFlag(0, 65535).optional(),
    host: z.string().min(1).optional(),
    _: noPositionals,
  }),
  async run(o, io) {
    const stop = io.waitForStop();
    const config = await loadRouterConfig(o.config, process.env, { port: o.port, host: o.host });
    const router = createRouter(config);
    const { url } = await router.listen();
    const split = router.state().releases.map((r) => `${r.id} ${r.role} ${r.weight}% x${r.upstreams.length}`).join(", ");
    io.stdout.write(`routing ${url} (${split}; admin API ${config.adminToken ? "on" : "off: no token"})\n`);
    const signal = await stop;
    await router.close();
    const { releases, generation } = router.state();
    return {
      summary: { url, signal, generation, releases, eventLog: config.eventLog?.path ?? null },
      text: `stopped on ${signal}: in-flight requests drained${config.eventLog ? `, event log flushed to ${config.eventLog.path}` : ""}`,
    };
  },
});
