import { z } from "zod";
import { readJsonFile } from "@recsys/core";

/** Quality per group: rmse and mae on held-out ratings, the rest on top-N lists against held-out ratings. */
export const QUALITY_METRICS = ["rmse", "mae", "ndcg", "precision", "recall"] as const;
/** What is served per group: genre miscalibration (Steck's KL) and the long-tail share of the list. */
export const EXPOSURE_METRICS = ["calibration", "tailExposure"] as const;
export const METRICS = [...QUALITY_METRICS, ...EXPOSURE_METRICS] as const;
export type MetricName = (typeof METRICS)[number];

/** MovieLens-1M's age bands (its README); core's serving bands merge 45-49 and 50-55. */
export const MOVIELENS_AGE_BANDS = [
  { label: "<18", max: 17 }, { label: "18-24", max: 24 }, { label: "25-34", max: 34 }, { label: "35-44", max: 44 },
  { label: "45-49", max: 49 }, { label: "50-55", max: 55 }, { label: "56+", max: 130 },
];

const RequirementSchema = z.object({
  /** A group attribute: gender, age, age_gender, occupation or another users-file field. */
  attribute: z.string().min(1),
  metric: z.enum(METRICS),
  /** Fails when the difference between groups (max - min) is larger and significant. */
  maxDifference: z.number().nonnegative().optional(),
  /** Fails when the ratio between groups (min / max) is smaller and significant. */
  minRatio: z.number().min(0).max(1).optional(),
}).strict().refine((r) => r.maxDifference !== undefined || r.minRatio !== undefined, "a requirement needs maxDifference or minRatio");
export type Requirement = z.infer<typeof RequirementSchema>;

export const FairnessConfigSchema = z.object({
  ageBands: z.array(z.object({ label: z.string().min(1), max: z.number().int().min(0) }).strict()).min(1)
    .refine((b) => b.every((x, i) => i === 0 || x.max > b[i - 1]!.max), "ageBands must be in increasing order of max")
    .default(MOVIELENS_AGE_BANDS),
  /** Groups with fewer evaluated users than this are named and not judged. */
  minGroupSize: z.number().int().min(1).default(30),
  bootstrap: z.number().int().min(10).max(100_000).default(1000),
  permutations: z.number().int().min(10).max(100_000).default(1000),
  alpha: z.number().gt(0).lt(1).default(0.05),
  topN: z.number().int().min(1).max(1000).default(20),
  relevantAt: z.number().min(1).max(5).default(4),
  /** Profile-size strata (terciles by default) in which each disparity is measured again. */
  activityStrata: z.number().int().min(1).max(10).default(3),
  /** The most popular share of movies that forms the short head; the rest is the long tail. */
  headShare: z.number().gt(0).lt(1).default(0.2),
  requirements: z.array(RequirementSchema).default([
    { attribute: "gender", metric: "ndcg", maxDifference: 0.05 },
    { attribute: "age", metric: "ndcg", maxDifference: 0.05 },
    { attribute: "gender", metric: "rmse", maxDifference: 0.1 },
    { attribute: "age", metric: "rmse", maxDifference: 0.1 },
  ]),
}).strict();
export type FairnessConfig = z.output<typeof FairnessConfigSchema>;
export type FairnessConfigInput = z.input<typeof FairnessConfigSchema>;

export const FAIRNESS_DEFAULTS: FairnessConfig = FairnessConfigSchema.parse({});

/** Reads a config file (JSON, unknown keys rejected), or the defaults without one. */
export async function loadFairnessConfig(path: string | undefined): Promise<FairnessConfig> {
  return path ? readJsonFile(FairnessConfigSchema, path, "RECSYS_BAD_CONFIG") : FAIRNESS_DEFAULTS;
}
