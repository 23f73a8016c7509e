import express, { type Express, type NextFunction, type Request, type Response } from "express";
import { reloadRoute } from "./admin.ts";
import { JSON_TYPE, TEXT, createResponder, type AppContext } from "./context.ts";
import { createRecommendEndpoint, type RecommendEndpoint } from "./recommend-endpoint.ts";
import { printable } from "./request-context.ts";

/**
 * The express app with every endpoint of the contract, and the /recommend endpoint on its own
 * so the server can call it ahead of express (the app still routes /recommend when mounted
 * elsewhere). Every handler writes its response in one call through the shared responder.
 */
export function createApp(ctx: AppContext): { app: Express; recommendEndpoint: RecommendEndpoint } {
  const { config, holder, metrics } = ctx;
  const respond = createResponder(ctx);
  const recommendEndpoint = createRecommendEndpoint(ctx, respond);
  const app = express();
  app.disable("x-powered-by");
  app.set("etag", false);

  app.get("/recommend/:userId", (req, res) => recommendEndpoint.handle(req, res, req.path.slice("/recommend/".length)));

  app.get("/healthz", (req, res) => respond(req, res, "healthz", 200, TEXT, "ok"));

  app.get("/readyz", (req, res) => {
    const state = holder.current();
    if (ctx.closing()) return respond(req, res, "readyz", 503, TEXT, "not ready: shutting down");
    if (!state) return respond(req, res, "readyz", 503, TEXT, "not ready: model not loaded");
    respond(req, res, "readyz", 200, TEXT, `ready ${state.model.meta.modelHash}`);
  });

  app.get("/version", (req, res) => {
    const state = holder.current();
    const meta = state?.model.meta;
    const body = {
      release: config.release, manifestMd5: config.manifestMd5, commit: config.commit,
      modelId: state?.modelId ?? null, modelHash: meta?.modelHash ?? null, dataHash: meta?.dataHash ?? null,
      engine: meta?.engine ?? null, metrics: meta?.metrics ?? null, loadedAt: state?.loadedAt ?? null,
    };
    respond(req, res, "version", 200, JSON_TYPE, JSON.stringify(body));
  });

  app.get("/metrics", async (req, res, next) => {
    try {
      respond(req, res, "metrics", 200, metrics.registry.contentType, await metrics.registry.metrics());
    } catch (err) {
      next(err);
    }
  });

  app.post("/admin/reload", reloadRoute(ctx, (req, res, status, body) => respond(req, res, "reload", status, JSON_TYPE, JSON.stringify(body))));

  app.use((req, res) => {
    respond(req, res, "other", 404, TEXT, `no route ${printable(req.method, 10)} ${printable(req.path, 100)}`);
  });

  // Express reports malformed percent-encoding and body errors here with a status.
  app.use((err: unknown, req: Request, res: Response, _next: NextFunction) => {
    const e = err as { status?: number; statusCode?: number; message?: string };
    const status = e.status ?? e.statusCode ?? 500;
    if (res.headersSent) return;
    if (status === 400 && req.path.startsWith("/recommend/")) return recommendEndpoint.handle(req, res, req.path.slice("/recommend/".length));
    if (status >= 500) ctx.report(`api: ${printable(req.method, 10)} ${printable(req.path, 100)} failed: ${e.message ?? String(err)}`);
    respond(req, res, "other", status, TEXT, status >= 500 ? "internal error" : printable(e.message ?? "bad request", 200));
  });
  return { app, recommendEndpoint };
}
