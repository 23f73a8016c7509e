import { z } from "zod";
import { RatingScaleSchema, STREAM_RATING_SCALE, type RatingScale } from "@recsys/core";

export const ARTIFACT_FORMAT_VERSION = 1;
export const MODEL_META_FILE = "model.json";

export const DTYPES = { f32: Float32Array, u32: Uint32Array, u8: Uint8Array } as const;
export type DType = keyof typeof DTYPES;
export type TypedArray = Float32Array | Uint32Array | Uint8Array;

/** One binary little-endian file of the artifact, with the shape the loader checks. */
export const TensorSpecSchema = z.object({
  file: z.string().regex(/^[a-z0-9_]+\.(f32|u32|u8)$/, "tensor files are named <name>.<dtype>"),
  dtype: z.enum(["f32", "u32", "u8"]),
  shape: z.array(z.number().int().nonnegative()).min(1).max(2),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
});
export type TensorSpec = z.infer<typeof TensorSpecSchema>;

export const ModelMetaSchema = z.object({
  formatVersion: z.literal(ARTIFACT_FORMAT_VERSION),
  engine: z.string().min(1),
  hyperParams: z.record(z.string(), z.union([z.number(), z.string(), z.boolean()])),
  /** 0 for a model without factors (kNN: biases plus its user_item_scores table). */
  factors: z.number().int().nonnegative(),
  globalMean: z.number(),
  /** The dataset's rating scale the model was trained on; predictions are clipped to it (absent in older models: 1..5 step 1). */
  ratingScale: RatingScaleSchema.optional(),
  /** Index -> external id; the row order of every per-user / per-movie tensor. */
  userIds: z.array(z.number().int().nonnegative()),
  movieIds: z.array(z.string().min(1)),
  /** Demographic group labels; `group_popularity` has one row per label. */
  groups: z.array(z.string()).default([]),
  metrics: z.record(z.string(), z.number()),
  gate: z.object({
    metric: z.string(), threshold: z.number(), value: z.number(), passed: z.boolean(),
    /** The biases-only baseline's RMSE on the same split, and the two conditions (absent in older models). */
    baseline: z.number().optional(), belowThreshold: z.boolean().optional(), noWorseThanBaseline: z.boolean().optional(),
  }),
  /** The canonical dataset's dataHash the model was trained on. */
  dataHash: z.string(),
  createdAt: z.string(),
  tensors: z.record(z.string(), TensorSpecSchema),
  /** sha256 over this file without `modelHash` plus every tensor's sha256: the model's identity. */
  modelHash: z.string().regex(/^[0-9a-f]{64}$/),
});
export type ModelMeta = z.infer<typeof ModelMetaSchema>;

/** The scale a model's predictions are clipped to: the one it records, or 1..5 for a model from before scales were recorded. */
export function modelRatingScale(meta: Pick<ModelMeta, "ratingScale">): RatingScale {
  return meta.ratingScale ?? STREAM_RATING_SCALE;
}
