import express, { type Express, type NextFunction, type Request, type Response } from "express";
import type { ApiConfig } from "./config.ts";
import type { ApiMetrics, RouteLabel } from "./metrics.ts";
import type { CachedAnswer, ModelHolder, ServingState } from "./model-holder.ts";
import { parseUserId, recommend, MAX_USER_ID } from "./recommend.ts";
import { createDayClock, createRequestIds, printable, writeResponse, type TimedRequest } from "./request-context.ts";
import type { ResponseLog } from "./response-log.ts";
import { reloadRoute } from "./admin.ts";

export interface AppContext {
  config: ApiConfig;
  holder: ModelHolder;
  metrics: ApiMetrics;
  /** The response log, once open. */
  log(): ResponseLog | null;
  now(): number;
  /** True while the server drains for a stop: readiness fails, connections close after use. */
  closing(): boolean;
}

const TEXT = "text/plain; charset=utf-8";
const JSON_TYPE = "application/json; charset=utf-8";
const BAD_ID = `user id must be a whole number from 0 to ${MAX_USER_ID}`;

/** Time since the server's listener saw the request (0 when the app is mounted elsewhere). */
function elapsedMs(req: Request): number {
  const started = (req as unknown as Partial<TimedRequest>).startedAt;
  return started === undefined ? 0 : performance.now() - started;
}

/**
 * The express app: every endpoint of the contract. Handlers write their response in one call
 * and count it (metrics; the response log for /recommend) through `finish`.
 */
export function createApp(ctx: AppContext): Express {
  const { config, holder, metrics } = ctx;
  const app = express();
  app.disable("x-powered-by");
  app.set("etag", false);
  const requestId = createRequestIds();
  const dayOf = createDayClock();

  function finish(req: Request, res: Response, route: RouteLabel, status: number, type: string, body: string, extra: Record<string, string> = {}): void {
    const headers = ctx.closing() ? { ...extra, Connection: "close" } : extra;
    writeResponse(res, status, type, body, headers);
    metrics.observe(route, status, elapsedMs(req) / 1000);
  }

  /** Answers /recommend and logs the response with the model that produced it. */
  function answerRecommend(req: Request, res: Response, rawId: string, state: ServingState | null, status: number, body: string, answer?: CachedAnswer): void {
    const id = requestId(req);
    const headers: Record<string, string> = { "X-Request-Id": id, "X-Release": config.release };
    if (state) headers["X-Model"] = state.model.meta.modelHash;
    finish(req, res, "recommend", status, TEXT, body, headers);
    ctx.log()?.append({
      timeMs: ctx.now(), requestId: id, userId: status === 200 ? rawId : printable(rawId), status,
      latencyMs: elapsedMs(req),
      release: config.release, commit: config.commit,
      modelHash: state?.model.meta.modelHash ?? "", dataHash: state?.model.meta.dataHash ?? "",
      result: answer ? answer.result : body, exploreSlots: answer ? answer.exploreSlots : "",
    });
  }

  app.get("/recommend/:userId", (req, res) => {
    const raw = req.params.userId;
    // Read the state once: this request finishes on this model even if a swap lands meanwhile.
    const state = holder.current();
    // While draining for a stop, requests still on open connections are answered normally.
    if (!state) return answerRecommend(req, res, raw, state, 503, "model not loaded yet");
    const userId = parseUserId(raw);
    if (userId < 0) return answerRecommend(req, res, raw, state, 400, `${BAD_ID}, got "${printable(raw)}"`);
    const day = dayOf(ctx.now());
    if (state.cacheDay !== day) {
      state.cache.clear();
      state.cacheDay = day;
    }
    let answer = state.cache.get(userId);
    if (!answer) {
      const rec = recommend(state.model, userId, { exploreShare: config.exploreShare, day });
      answer = { body: rec.ids.join(","), result: rec.ids.join("|"), exploreSlots: rec.exploreSlots.join("|"), exploreCount: rec.exploreSlots.length };
      state.cache.set(userId, answer);
    }
    if (answer.exploreCount) metrics.exploreSlots(answer.exploreCount);
    answerRecommend(req, res, String(userId), state, 200, answer.body, answer);
  });

  app.get("/healthz", (req, res) => finish(req, res, "healthz", 200, TEXT, "ok"));

  app.get("/readyz", (req, res) => {
    const state = holder.current();
    if (ctx.closing()) return finish(req, res, "readyz", 503, TEXT, "not ready: shutting down");
    if (!state) return finish(req, res, "readyz", 503, TEXT, "not ready: model not loaded");
    finish(req, res, "readyz", 200, TEXT, `ready ${state.model.meta.modelHash}`);
  });

  app.get("/version", (req, res) => {
    const state = holder.current();
    const meta = state?.model.meta;
    const body = {
      release: config.release, commit: config.commit,
      modelId: state?.modelId ?? null, modelHash: meta?.modelHash ?? null, dataHash: meta?.dataHash ?? null,
      engine: meta?.engine ?? null, metrics: meta?.metrics ?? null, loadedAt: state?.loadedAt ?? null,
    };
    finish(req, res, "version", 200, JSON_TYPE, JSON.stringify(body));
  });

  app.get("/metrics", async (req, res, next) => {
    try {
      finish(req, res, "metrics", 200, metrics.registry.contentType, await metrics.registry.metrics());
    } catch (err) {
      next(err);
    }
  });

  app.post("/admin/reload", reloadRoute(ctx, (req, res, status, body) => finish(req, res, "reload", status, JSON_TYPE, JSON.stringify(body))));

  app.use((req, res) => {
    finish(req, res, "other", 404, TEXT, `no route ${printable(req.method, 10)} ${printable(req.path, 100)}`);
  });

  // Express reports malformed percent-encoding and body errors here with a status.
  app.use((err: unknown, req: Request, res: Response, _next: NextFunction) => {
    const e = err as { status?: number; statusCode?: number; message?: string };
    const status = e.status ?? e.statusCode ?? 500;
    const reason = status >= 500 ? "internal error" : printable(e.message ?? "bad request", 200);
    if (res.headersSent) return;
    if (req.path.startsWith("/recommend/")) {
      const raw = req.path.slice(11);
      return answerRecommend(req, res, raw, holder.current(), status, status === 400 ? `${BAD_ID}, got "${printable(raw)}" (bad percent-encoding)` : reason);
    }
    finish(req, res, "other", status, TEXT, reason);
  });
  return app;
}
