import { execFileSync } from "node:child_process";
import { dirname, resolve } from "node:path";
import { z } from "zod";
import { InputError, describeIssues } from "@recsys/core";
import { CALIBRATION_CANDIDATES } from "./calibration.ts";

/** Where each setting comes from when the flag is absent. */
export const API_ENV = {
  modelDir: "RECSYS_MODEL_DIR",
  modelsRoot: "RECSYS_MODELS_ROOT",
  port: "RECSYS_PORT",
  host: "RECSYS_HOST",
  release: "RECSYS_RELEASE",
  commit: "RECSYS_GIT_COMMIT",
  logDir: "RECSYS_LOG_DIR",
  exploreShare: "RECSYS_EXPLORE",
  adminToken: "RECSYS_ADMIN_TOKEN",
  cacheSize: "RECSYS_CACHE_SIZE",
  manifestMd5: "RECSYS_MANIFEST_MD5",
  logRetentionDays: "RECSYS_LOG_RETENTION_DAYS",
  logRetentionBytes: "RECSYS_LOG_RETENTION_BYTES",
  logResponses: "RECSYS_LOG_RESPONSES",
  calibration: "RECSYS_CALIBRATION",
  calibrationCandidates: "RECSYS_CALIBRATION_CANDIDATES",
  movies: "RECSYS_MOVIES",
  popularityPrior: "RECSYS_POPULARITY_PRIOR",
} as const;

/** A number, or its decimal text (environment variables are strings); out-of-range text gets the number's own message. */
const fromString = (inner: z.ZodNumber) =>
  z.preprocess((v) => (typeof v === "string" && /^\s*-?\d+(\.\d+)?\s*$/.test(v) ? Number(v) : v), inner);

/** The validated configuration of one API process; defaults live here and nowhere else. */
export const ApiConfigSchema = z.strictObject({
  modelDir: z.string({ error: "a model directory is required (--model or RECSYS_MODEL_DIR)" }).min(1, "a model directory is required (--model or RECSYS_MODEL_DIR)"),
  /**
   * POST /admin/reload loads only directories under this one (symlinks resolved); default: the
   * parent of modelDir, i.e. the platform's models/. Stored as an absolute path.
   */
  modelsRoot: z.string().min(1).optional(),
  port: fromString(z.number().int().min(0).max(65535)).default(8080),
  host: z.string().min(1).default("127.0.0.1"),
  release: z.string().regex(/^[\w.:+-]{1,100}$/, "release ids are 1-100 characters of letters, digits and ._:+-").default("dev"),
  commit: z.string().regex(/^[\w.-]{1,100}$/, "a git commit id or 'unknown'").default("unknown"),
  logDir: z.string().min(1).default("logs/api"),
  /** md5 of the release manifest deploy wrote for this release (shown by /version); null outside a deploy. */
  manifestMd5: z.string().regex(/^[0-9a-f]{32}$/, "an md5 (32 hex digits)").nullable().default(null),
  /** Share of the result slots filled by exploration (0.1 of 20 = 2 slots). */
  exploreShare: fromString(z.number().min(0).max(0.5)).default(0),
  /**
   * Calibrated re-ranking (Steck 2018): weight lambda of genre calibration against score, 0..1.
   * 0 (the default) serves the plain score order through the unchanged code path.
   */
  calibration: fromString(z.number().min(0).max(1)).default(0),
  /** How many of the best-scoring unseen movies calibration picks the 20 from. */
  calibrationCandidates: fromString(z.number().int().min(20).max(5000)).default(CALIBRATION_CANDIDATES),
  /**
   * Weight of ln(1 + popularity) added to each movie's score in a known user's ranking (artifact's
   * rankingBias): 0 (the default) ranks by the model alone; about 1 beat the popularity list on
   * nDCG@20 on both the simulated world and ml-latest-small (bench/ranking.ts).
   */
  popularityPrior: fromString(z.number().min(0).max(10)).default(0),
  /** The dataset's movies.jsonl: the genres calibration needs (the artifact has none). */
  movies: z.string().min(1).optional(),
  /** Bearer token for POST /admin/reload; without one the endpoint always answers 401. */
  adminToken: z.string().min(16, "the admin token must be at least 16 characters").optional(),
  watch: z.boolean().default(false),
  /** How often --watch looks at model.json (ms). */
  watchIntervalMs: z.number().int().min(50).max(60_000).default(1000),
  /** Cached answers (users); 0 disables the cache. */
  cacheSize: fromString(z.number().int().min(0).max(10_000_000)).default(50_000),
  /** "off" writes no response log: only to measure what logging costs (trace finds nothing from such a process). */
  logResponses: z.enum(["on", "off"]).default("on"),
  logFlushMs: z.number().int().min(10).max(60_000).default(250),
  /** A response log file rotates once it passes this size (and at every UTC day). */
  logMaxBytes: z.number().int().min(1024).default(64 * 1024 * 1024),
  /** Closed (gzipped) response logs are removed once their day ended this many days ago. */
  logRetentionDays: fromString(z.number().min(0)).default(14),
  /**
   * ...and, oldest first, while all response logs together exceed this many bytes. 64 GiB holds
   * about 11 days at a sustained 1,000 req/s (about 71 B a response gzipped: bench/provenance.ts).
   */
  logRetentionBytes: fromString(z.number().int().min(0)).default(64 * 1024 ** 3),
  /** How long a stop waits for in-flight requests before closing connections. */
  drainTimeoutMs: z.number().int().min(0).max(120_000).default(10_000),
  // Limits of the HTTP listener (Node's own checks; README "Hardening"). A head must be complete
  // within headersTimeoutMs of its first byte and a whole request within requestTimeoutMs (else
  // 408 and close); an idle keep-alive connection closes after keepAliveTimeoutMs.
  headersTimeoutMs: z.number().int().min(10).max(600_000).default(10_000),
  requestTimeoutMs: z.number().int().min(10).max(600_000).default(30_000),
  /** Outlives the router's idle upstream connections, so a reused one is not closed under a request. */
  keepAliveTimeoutMs: z.number().int().min(10).max(600_000).default(30_000),
  /** How often Node checks the two timeouts above: a timeout fires at most this much late. */
  connectionsCheckingIntervalMs: z.number().int().min(10).max(60_000).default(1000),
  /** Bytes of one request head (request line and headers); over it Node answers 431. */
  maxHeaderSize: z.number().int().min(1024).max(1024 * 1024).default(16 * 1024),
  /** Header lines in one request; more is refused with 431. */
  maxHeadersCount: z.number().int().min(8).max(2000).default(100),
  /** Characters of the request target; longer is refused with 414 (the platform's are < 100). */
  maxTargetLength: z.number().int().min(64).max(64 * 1024).default(2048),
})
  .refine((c) => c.calibration === 0 || c.movies !== undefined, { message: "calibration needs the movies file with genres (RECSYS_MOVIES, e.g. data/movies.jsonl)", path: ["movies"] })
  .refine((c) => c.headersTimeoutMs <= c.requestTimeoutMs, { message: "must not be longer than requestTimeoutMs", path: ["headersTimeoutMs"] })
  .transform((c) => ({ ...c, modelsRoot: resolve(c.modelsRoot ?? dirname(resolve(c.modelDir))) }));
export type ApiConfig = z.output<typeof ApiConfigSchema>;
export type ApiConfigInput = z.input<typeof ApiConfigSchema>;

/** The checkout's HEAD, or "unknown" when git or a repository is not there. */
export function gitHeadCommit(cwd = process.cwd()): string {
  try {
    return execFileSync("git", ["rev-parse", "HEAD"], { cwd, timeout: 2000, stdio: ["ignore", "pipe", "ignore"] }).toString().trim() || "unknown";
  } catch {
    return "unknown";
  }
}

/**
 * Merges explicit settings (flags) over the environment and validates the result once; a bad
 * value is an InputError naming the setting. The commit falls back from RECSYS_GIT_COMMIT to
 * `git rev-parse HEAD` to "unknown".
 *
 *     const config = resolveApiConfig({ modelDir: "models/current", port: 0 }, process.env);
 */
export function resolveApiConfig(settings: Partial<ApiConfigInput>, env: NodeJS.ProcessEnv = {}, gitCommit: () => string = gitHeadCommit): ApiConfig {
  const merged: Record<string, unknown> = {};
  // Settings taken from the environment, by the variable that set them: an error names it, since that is where the user must fix it.
  const fromEnv = new Map<string, string>();
  for (const [key, name] of Object.entries(API_ENV)) {
    if (env[name] !== undefined && env[name] !== "") { merged[key] = env[name]; fromEnv.set(key, name); }
  }
  for (const [key, value] of Object.entries(settings)) if (value !== undefined) { merged[key] = value; fromEnv.delete(key); }
  merged.commit ??= gitCommit();
  const result = ApiConfigSchema.safeParse(merged);
  if (result.success) return result.data;
  const issues = result.error.issues.map(({ path: [key, ...rest], message }) => {
    const name = fromEnv.get(String(key));
    return { message, path: key === undefined ? [] : [name ? `${String(key)} (${name})` : key, ...rest] };
  });
  throw new InputError("RECSYS_API_BAD_CONFIG", `api config: ${describeIssues(issues)}`);
}
