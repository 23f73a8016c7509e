import type { IncomingMessage, ServerResponse } from "node:http";
import { bearerTokenMatches, describeIssues } from "@recsys/core";
import type { z } from "zod";
import { RouterError } from "./errors.ts";
import { ReleasesChangeSchema, UpstreamsChangeSchema, WeightsChangeSchema } from "./state.ts";
import type { Router } from "./router.ts";

const MAX_BODY = 64 * 1024;

/**
 * The token-protected admin API over a {@link Router}: `GET /admin/state`, `POST /admin/weights`,
 * `POST /admin/promote`, `POST /admin/rollback`, plus `POST /admin/upstreams` and
 * `POST /admin/releases` for the deploy package. Every call needs `Authorization: Bearer
 * <token>` (401 otherwise, or always when no token is configured); bad input gets a 400 with
 * `{error: {code, message}}` and changes nothing. Success answers the new state as JSON, once
 * every worker process has applied it.
 */
export function createAdminHandler(router: Router, token: string | undefined): (req: IncomingMessage, res: ServerResponse, path: string) => void {
  const act = async (req: IncomingMessage, path: string): Promise<unknown> => {
    const route = `${req.method} ${path}`;
    switch (route) {
      case "GET /admin/state": return router.state();
      case "POST /admin/weights": return router.setWeights(parseBody(WeightsChangeSchema, await readBody(req), path));
      case "POST /admin/promote": await readBody(req); return router.promote();
      case "POST /admin/rollback": await readBody(req); return router.rollback();
      case "POST /admin/upstreams": {
        const body = parseBody(UpstreamsChangeSchema, await readBody(req), path);
        return router.setUpstreams(body.release, body.upstreams);
      }
      case "POST /admin/releases": return router.setReleases(parseBody(ReleasesChangeSchema, await readBody(req), path).releases);
      default: throw new RouterError("unknownRoute", `no admin route ${route} (see the router README)`);
    }
  };

  return (req, res, path) => {
    if (!bearerTokenMatches(req.headers.authorization, token)) {
      req.resume();
      const message = token === undefined ? "admin API disabled: set adminToken in the config or RECSYS_ADMIN_TOKEN" : "missing or wrong 'Authorization: Bearer <token>'";
      return sendJson(res, 401, { error: { code: "ROUTER_UNAUTHORIZED", message } });
    }
    // A change is answered once every process serving the public port has applied it, so a
    // caller's next request is routed by it whichever worker takes it.
    act(req, path).then((result) => router.applied().then(() => result)).then(
      (result) => sendJson(res, 200, result),
      (err) => {
        if (err instanceof RouterError) sendJson(res, err.status, { error: { code: err.code, message: err.message } });
        else sendJson(res, 500, { error: { code: "ROUTER_INTERNAL", message: (err as Error).message } });
      },
    );
  };
}

function parseBody<S extends z.ZodType>(schema: S, text: string, where: string): z.output<S> {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new RouterError("badRequest", `${where}: body is not JSON (${(err as Error).message})`);
  }
  const result = schema.safeParse(json);
  if (!result.success) throw new RouterError("badRequest", `${where}: ${describeIssues(result.error.issues)}`);
  return result.data;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let size = 0;
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      // Keep draining so the 400 can still be answered on this connection.
      if (size <= MAX_BODY) chunks.push(chunk);
    });
    req.on("end", () => {
      if (size > MAX_BODY) reject(new RouterError("badRequest", `body larger than ${MAX_BODY} bytes`));
      else resolve(Buffer.concat(chunks).toString("utf8"));
    });
    req.on("error", reject);
  });
}

function sendJson(res: ServerResponse, status: number, value: unknown): void {
  const body = JSON.stringify(value);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(body) });
  res.end(body);
}
