import { CANARY_ERROR } from "./errors.ts";
import { z } from "zod";
import { parseOrThrow, readJsonFile } from "@recsys/core";

/**
 * Canary thresholds, validated once with defaults in one place; unknown keys are rejected so a
 * misspelt threshold never silently falls back to its default. Defaults follow Flagger's
 * (success >= 99 %, p99 <= 500 ms) plus a quality check Flagger lacks.
 */
export const CanaryConfigSchema = z.strictObject({
  /** Hard threshold: the canary's share of status-200 responses must stay at or above this. */
  minSuccessRate: z.number().min(0).max(1).default(0.99),
  /** Hard threshold: the canary's p99 latency (all responses, failures included) in ms. */
  maxP99Ms: z.number().positive().default(500),
  /**
   * Canary requests needed before a hard threshold can roll back. Below 100 requests the
   * nearest-rank p99 is the single slowest request, too jumpy to act on.
   */
  minRequestsForRollback: z.number().int().positive().default(100),
  /** Canary requests needed before a promotion. */
  minRequests: z.number().int().positive().default(200),
  /** A recommendation is followed when the user starts one of its movies within this time. */
  followWindowMs: z.number().int().positive().default(600_000),
  /** Significance of the one-sided "canary quality is worse" test. */
  alpha: z.number().gt(0).lt(0.5).default(0.05),
  /** Follow-eligible recommendations needed in each arm before the quality test may decide. */
  minSamplesForQuality: z.number().int().positive().default(200),
  /** Scored recommendations needed in each arm for one user group's follow-rate test (users file given). */
  minSamplesPerGroup: z.number().int().positive().default(50),
  /** Time-series charts: how many buckets the window is cut into (rounded to a readable size). */
  timeSeriesBuckets: z.number().int().min(1).max(500).default(30),
});
export type CanaryConfig = z.output<typeof CanaryConfigSchema>;
export type CanaryConfigInput = z.input<typeof CanaryConfigSchema>;

/** The defaults, with any overrides checked against the schema. */
export function canaryConfig(overrides: CanaryConfigInput = {}, where = "canary config"): CanaryConfig {
  return parseOrThrow(CanaryConfigSchema, overrides, where, CANARY_ERROR.badConfig);
}

/** Reads a JSON config file (any subset of the keys); a bad file is an InputError (exit 2). */
export async function loadCanaryConfig(path: string): Promise<CanaryConfig> {
  return readJsonFile(CanaryConfigSchema, path, CANARY_ERROR.badConfig);
}
