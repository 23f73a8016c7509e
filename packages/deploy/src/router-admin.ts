import { z } from "zod";
import { RouterAdminError } from "./errors.ts";
import { httpCall } from "./http.ts";

/** A release as the router's admin API lists it. */
export interface RouterRelease {
  id: string;
  role: "stable" | "canary";
  upstreams: string[];
  weight: number;
}

const StateSchema = z.looseObject({
  releases: z.array(z.looseObject({ id: z.string(), role: z.enum(["stable", "canary"]), upstreams: z.array(z.string()), weight: z.number() })),
});

/**
 * The router's admin API as the deploy uses it. Every change is one call that the router
 * validates as a whole (weights sum to 100, one stable release...), so a half-applied step
 * never routes traffic. The router may run in this process or elsewhere: the deploy speaks
 * HTTP to it either way, so both paths are the same code.
 */
export interface RouterAdmin {
  readonly url: string;
  releases(): Promise<RouterRelease[]>;
  /** Replaces the whole routing table at once (upstreams and weights together). */
  setReleases(releases: RouterRelease[]): Promise<RouterRelease[]>;
  /** Canary weight 0 at once, its share back to stable. */
  rollback(): Promise<RouterRelease[]>;
}

/**
 * An admin client for the router at `url` with its Bearer token.
 *
 *     const admin = createRouterAdmin("http://127.0.0.1:8082", process.env.RECSYS_ADMIN_TOKEN!);
 *     await admin.rollback();
 */
export function createRouterAdmin(url: string, token: string, timeoutMs = 5_000): RouterAdmin {
  const base = url.replace(/\/+$/, "");
  const call = async (action: string, method: string, body?: unknown): Promise<RouterRelease[]> => {
    const answer = await httpCall(method, `${base}/admin/${action}`, { timeoutMs, body, headers: { authorization: `Bearer ${token}` } });
    if (answer.status !== 200) {
      const detail = answer.status === 0 ? `${base}: ${answer.error}` : errorMessage(answer.body);
      throw new RouterAdminError(action, answer.status, detail);
    }
    const parsed = StateSchema.safeParse(safeJson(answer.body));
    if (!parsed.success) throw new RouterAdminError(action, answer.status, "answer has no releases list (is this a recsys router?)");
    return parsed.data.releases.map(({ id, role, upstreams, weight }) => ({ id, role, upstreams, weight }));
  };
  return {
    url: base,
    releases: () => call("state", "GET"),
    setReleases: (releases) => call("releases", "POST", { releases }),
    rollback: () => call("rollback", "POST", {}),
  };
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function errorMessage(body: string): string {
  const json = safeJson(body) as { error?: { code?: string; message?: string } } | undefined;
  return json?.error ? `${json.error.code}: ${json.error.message}` : body.slice(0, 200);
}
