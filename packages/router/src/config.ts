import { hostname } from "node:os";
import { z } from "zod";
import { parseOrThrow, readJsonFile } from "@recsys/core";
import { ROUTER_ERRORS, RouterError } from "./errors.ts";
import { ReleasesSchema } from "./state.ts";

/** The issue's default split: one canary at 20%, two stable replicas at 40% each (80 / 2). */
export const DEFAULT_RELEASES = [
  { id: "stable", role: "stable", upstreams: ["http://127.0.0.1:8083", "http://127.0.0.1:8084"], weight: 80 },
  { id: "canary", role: "canary", upstreams: ["http://127.0.0.1:8085"], weight: 20 },
] as const;

/**
 * The router's config file (JSON). Unknown keys are rejected; every key has a default, so `{}`
 * is a valid config for the default three local upstreams. See README for an example.
 */
export const RouterConfigSchema = z.strictObject({
  port: z.number().int().min(0).max(65535).default(8082),
  host: z.string().min(1).default("0.0.0.0"),
  /**
   * The admin API and the router's /metrics listen apart from the public port, on loopback by
   * default: weights and upstreams must not be reachable from where users are.
   */
  admin: z.strictObject({
    host: z.string().min(1).default("127.0.0.1"),
    port: z.number().int().min(0).max(65535).default(8092),
  }).prefault({}),
  /** How long a client may take (both listeners); a connection past them is closed (408 where a request is due). */
  clientTimeouts: z.strictObject({
    /** From a request's first byte to the end of its head. */
    headersMs: z.number().int().min(100).max(600_000).default(10_000),
    /** From a request's first byte to the end of its body. */
    requestMs: z.number().int().min(100).max(600_000).default(30_000),
    /** An idle kept-alive connection between requests. */
    keepAliveMs: z.number().int().min(100).max(600_000).default(5_000),
  }).prefault({}).refine((t) => t.headersMs <= t.requestMs, "clientTimeouts: headersMs must not exceed requestMs"),
  /**
   * Processes serving the public port (node:cluster). 1: the router's own process, as the deploy
   * package runs it. More: that many workers behind one port, the routing state, admin API,
   * health checks and log files kept in the primary (see README, "Worker processes").
   */
  workers: z.number().int().min(1).max(64).default(1),
  /** `<server>` in the stream's request line; default `<hostname>:<port>`. */
  serverName: z.string().regex(/^[^,\s]+$/, "server name: no spaces or commas").optional(),
  releases: ReleasesSchema.default(() => DEFAULT_RELEASES.map((r) => ({ ...r, upstreams: [...r.upstreams] }))),
  /** Bearer token for /admin/*; falls back to RECSYS_ADMIN_TOKEN. No token: the admin API answers 401. */
  adminToken: z.string().min(16, "admin token: at least 16 characters").optional(),
  /** Total time a caller waits for us (the site's client times out at 800 ms). */
  budgetMs: z.number().int().min(50).max(60_000).default(800),
  /** One try at one upstream; a second try gets what is left of the budget. */
  attemptTimeoutMs: z.number().int().min(10).max(60_000).default(350),
  healthCheck: z.strictObject({
    path: z.string().startsWith("/").default("/readyz"),
    intervalMs: z.number().int().min(50).max(600_000).default(1000),
    timeoutMs: z.number().int().min(10).max(60_000).default(300),
    /** Failed checks in a row that take an upstream out (a refused connect: at once). */
    unhealthyAfter: z.number().int().min(1).max(100).default(2),
  }).prefault({}),
  /** Consecutive failed tries (timeouts, resets, 5xx) that eject an upstream; a refused connect ejects at once. */
  ejectAfter: z.number().int().min(1).max(1000).default(3),
  popular: z.strictObject({
    /** How many recent successful answers the fallback list is counted over (512 bytes of memory each). */
    window: z.number().int().min(1).max(20_000).default(500),
    size: z.number().int().min(1).max(100).default(20),
    /** Answer with these before any upstream has answered (optional). */
    seed: z.array(z.string().regex(/^[^\s,/]+$/)).max(100).default([]),
  }).prefault({}),
  eventLog: z.strictObject({
    /** The stream's request lines: `<time>,<userid>,recommendation request <server>, status <code>, result: <recs>, <ms> ms`. */
    path: z.string().min(1),
    /** Which release served each request (CSV); default `<path>.releases.csv`. */
    releasesPath: z.string().min(1).optional(),
    flushMs: z.number().int().min(10).max(60_000).default(1000),
  }).optional(),
});

export type RouterConfigInput = z.input<typeof RouterConfigSchema>;
export type RouterConfig = z.output<typeof RouterConfigSchema> & { serverName: string };

/**
 * Validates a config object (from a file or built in code) and fills defaults; `env` supplies
 * RECSYS_ADMIN_TOKEN when the config has no token. Throws RouterError-coded InputError.
 *
 *     const cfg = parseRouterConfig({ releases, port: 0 }, "deploy", process.env);
 */
export function parseRouterConfig(input: unknown, where = "router config", env: Record<string, string | undefined> = {}): RouterConfig {
  const cfg = parseOrThrow(RouterConfigSchema, input, where, ROUTER_ERRORS.badConfig.code);
  const adminToken = cfg.adminToken ?? env.RECSYS_ADMIN_TOKEN;
  if (adminToken !== undefined && adminToken.length < 16) throw new RouterError("badConfig", "RECSYS_ADMIN_TOKEN: at least 16 characters");
  return { ...cfg, adminToken, serverName: cfg.serverName ?? `${hostname()}:${cfg.port}` };
}

/**
 * Reads a JSON config file (none: all defaults) through {@link parseRouterConfig}; `overrides`
 * (command-line flags) win over the file's keys.
 *
 *     const cfg = await loadRouterConfig("router.json", process.env, { port: 9000 });
 */
export async function loadRouterConfig(path: string | undefined, env: Record<string, string | undefined> = {}, overrides: { port?: number; host?: string; adminPort?: number; workers?: number } = {}): Promise<RouterConfig> {
  const raw = path === undefined ? {} : await readJsonFile(z.record(z.string(), z.unknown()), path, ROUTER_ERRORS.badConfig.code);
  const { adminPort, ...top } = overrides;
  const defined = Object.fromEntries(Object.entries(top).filter(([, v]) => v !== undefined));
  const merged: Record<string, unknown> = { ...raw, ...defined };
  if (adminPort !== undefined) merged.admin = { ...(raw.admin as object | undefined), port: adminPort };
  return parseRouterConfig(merged, path ?? "default router config", env);
}
