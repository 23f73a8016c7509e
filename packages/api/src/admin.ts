import express, { type Request, type RequestHandler, type Response } from "express";
import { z } from "zod";
import { RecsysError, bearerTokenMatches, describeIssues } from "@recsys/core";
import type { AppContext } from "./context.ts";
import { NOT_LOADABLE } from "./errors.ts";
import { modelDirUnderRoot } from "./models-root.ts";
import { printable } from "./request-context.ts";

const ReloadBodySchema = z.strictObject({ model: z.string().min(1).max(4096).optional() });

type Reply = (req: Request, res: Response, status: number, body: Record<string, unknown>) => void;

/**
 * POST /admin/reload: token check first (401, before any body is read), then an optional JSON
 * body `{"model": dir}`, which must resolve to a directory under the models root (else 403,
 * one answer for every such path); loads the model off to the side and swaps it in. A refused
 * artifact answers 422 with a generic reason (the loader's detail, which can quote files, goes
 * to the server's report only) and leaves the serving model in place.
 */
export function reloadRoute(ctx: AppContext, reply: Reply): RequestHandler[] {
  const auth: RequestHandler = (req, res, next) => {
    if (bearerTokenMatches(req.headers.authorization, ctx.config.adminToken)) return next();
    reply(req, res, 401, { code: "RECSYS_API_UNAUTHORIZED", message: "admin endpoints need 'Authorization: Bearer <RECSYS_ADMIN_TOKEN>'" });
  };
  const handle: RequestHandler = async (req, res) => {
    const parsed = ReloadBodySchema.safeParse(req.body ?? {});
    if (!parsed.success) {
      return reply(req, res, 400, { code: "RECSYS_API_BAD_REQUEST", message: `reload body: ${describeIssues(parsed.error.issues)}` });
    }
    const previous = ctx.holder.current()?.model.meta.modelHash ?? null;
    let dir: string | undefined;
    try {
      if (parsed.data.model !== undefined) dir = await modelDirUnderRoot(ctx.config.modelsRoot, parsed.data.model);
      const state = await ctx.holder.load(dir);
      ctx.metrics.reloaded("ok");
      reply(req, res, 200, { modelId: state.modelId, modelHash: state.model.meta.modelHash, dataHash: state.model.meta.dataHash, previousModelHash: previous, loadedAt: state.loadedAt });
    } catch (err) {
      ctx.metrics.reloaded("refused");
      const outside = err instanceof RecsysError && err.code === "RECSYS_API_MODEL_OUTSIDE_ROOT";
      if (outside) {
        ctx.report(`api: reload refused, "${printable(parsed.data.model ?? "", 200)}" is not a directory under the models root ${ctx.config.modelsRoot}`);
        return reply(req, res, 403, { code: err.code, message: err.message, serving: previous });
      }
      ctx.report(`api: reload of ${dir ?? "the current model directory"} refused, still serving ${previous}: ${(err as Error).message}`);
      const known = err instanceof RecsysError;
      reply(req, res, known ? 422 : 500, { code: known ? err.code : "RECSYS_API_RELOAD_FAILED", message: known ? NOT_LOADABLE : "reload failed (the server's log has the reason)", serving: previous });
    }
  };
  return [auth, express.json({ limit: "4kb", strict: true }), handle];
}
