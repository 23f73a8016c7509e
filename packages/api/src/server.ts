import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Express } from "express";
import { closeServer, createHardenedServer } from "@recsys/core";
import type { ApiConfig } from "./config.ts";
import { cannotListen, logDirUnusable, portInUse } from "./errors.ts";
import { createApiMetrics } from "./metrics.ts";
import { createModelHolder, type ServingState } from "./model-holder.ts";
import { checkModelsRoot } from "./models-root.ts";
import type { TimedRequest } from "./request-context.ts";
import { openResponseLog, type ResponseLog } from "./response-log.ts";
import { createApp } from "./routes.ts";

export interface ApiServer {
  app: Express;
  /** Binds, loads the model (rejecting with the loader's ArtifactError if it is bad), starts the log. */
  listen(): Promise<{ url: string; port: number }>;
  /** Stops taking requests, drains in-flight ones, flushes and closes the response log. */
  close(): Promise<void>;
  /** Loads another model directory (default: the current one) and swaps it in atomically. */
  reload(dir?: string): Promise<ServingState>;
  /** What serves right now (null before the first load). */
  state(): ServingState | null;
}

export interface ApiServerDeps {
  /** Wall clock for log times and exploration days (ms since epoch). */
  now?: () => number;
  /** Where background events (watch reloads, log write errors) are reported. */
  report?: (line: string) => void;
}

/**
 * Builds the recommendation API for one model directory: the express app, the model holder
 * with hot swap, metrics and the response log. Nothing happens until `listen()`.
 *
 *     const api = createApiServer(resolveApiConfig({ modelDir: "models/current", port: 0 }));
 *     const { url } = await api.listen();   // http://127.0.0.1:40123
 *     await api.close();
 */
export function createApiServer(config: ApiConfig, deps: ApiServerDeps = {}): ApiServer {
  const now = deps.now ?? Date.now;
  const report = deps.report ?? ((line: string) => process.stderr.write(line + "\n"));
  let closing = false;
  let log: ResponseLog | null = null;
  let server: Server | null = null;

  const holder = createModelHolder(config.modelDir, config.cacheSize, (state) => metrics.setModel(state.model.meta, state.modelId));
  const metrics = createApiMetrics(config.release, config.commit, () => {
    const cache = holder.current()?.cache;
    const lookups = cache ? cache.hits + cache.misses : 0;
    return lookups ? cache!.hits / lookups : 0;
  });
  const { app, recommendEndpoint } = createApp({ config, holder, metrics, log: () => log, now, closing: () => closing, report });

  async function bind(): Promise<Server> {
    const s = createHardenedServer({ ...config, takesBodies: true }, (req, res) => {
      (req as TimedRequest).startedAt = performance.now();
      if (!recommendEndpoint.tryFastPath(req, res)) app(req, res);
    });
    await new Promise<void>((resolve, reject) => {
      s.once("error", (err: NodeJS.ErrnoException) => reject(err.code === "EADDRINUSE" ? portInUse(config.host, config.port) : cannotListen(config.host, config.port, err.message)));
      s.listen(config.port, config.host, resolve);
    });
    return s;
  }

  return {
    app,
    async listen() {
      log = config.logResponses === "off" ? null : await openResponseLog({ dir: config.logDir, flushMs: config.logFlushMs, maxBytes: config.logMaxBytes,
        retention: { maxAgeMs: config.logRetentionDays * 86_400_000, maxTotalBytes: config.logRetentionBytes },
        onError: (err) => report(`api: response log write or archive failed (will retry): ${err.message}`), onNotice: report })
        .catch((err: NodeJS.ErrnoException) => {
          throw logDirUnusable(config.logDir, err.code ?? err.message);
        });
      try {
        await checkModelsRoot(config.modelsRoot);
        server = await bind();
        await holder.load(config.modelDir);
      } catch (err) {
        await this.close();
        throw err;
      }
      if (config.watch) {
        holder.watch(config.watchIntervalMs, ({ state, error }) => {
          metrics.reloaded(state ? "ok" : "refused");
          report(state ? `api: model changed on disk, now serving ${state.model.meta.modelHash}` : `api: model change refused, still serving the old one: ${error!.message}`);
        });
      }
      const { port } = server.address() as AddressInfo;
      const host = config.host.includes(":") ? `[${config.host}]` : config.host;
      return { url: `http://${host}:${port}`, port };
    },
    async close() {
      if (closing) return;
      closing = true;
      holder.close();
      if (server?.listening) await closeServer(server, config.drainTimeoutMs);
      await log?.close();
    },
    reload: (dir) => holder.load(dir),
    state: () => holder.current(),
  };
}
