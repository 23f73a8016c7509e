import { z } from "zod";
import { readFile, writeFile, mkdir } from "node:fs/promises";
import { join } from "node:path";
import { readJsonFile, InputError } from "@recsys/core";
import type { Truth } from "./truth.ts";
import { WorldOptionsSchema, type World } from "./world.ts";
import { SIM_ERRORS } from "./errors.ts";

/**
 * truth/ holds the hidden model as truth.json (parameters, id order, file table) plus one raw
 * little-endian Float32 file per array, row-major, so any language can load it with one read.
 */
export const TRUTH_FILES = {
  meta: "truth.json",
  userFactors: "user_factors.f32",
  movieFactors: "movie_factors.f32",
  userBias: "user_bias.f32",
  movieBias: "movie_bias.f32",
  popularity: "movie_popularity.f32",
  activity: "user_activity.f32",
} as const;

type ArrayName = Exclude<keyof typeof TRUTH_FILES, "meta">;
const ARRAYS: ArrayName[] = ["userFactors", "movieFactors", "userBias", "movieBias", "popularity", "activity"];

export const TruthMetaSchema = z.object({
  format: z.literal("recsys-sim-truth"),
  version: z.literal(1),
  seed: z.number().int(),
  /** The createWorld options that built this world: `createWorld(meta.worldOptions)` rebuilds it. */
  worldOptions: WorldOptionsSchema,
  factors: z.number().int().positive(),
  globalMean: z.number(),
  ratingNoise: z.number(),
  starCuts: z.array(z.number()).length(4),
  /** Row r of every user array is user_id r + 1. */
  users: z.number().int().positive(),
  /** Row r of every movie array is movieIds[r]. */
  movieIds: z.array(z.string()),
  unlisted: z.object({ users: z.array(z.number().int()), movies: z.array(z.string()) }),
  files: z.record(z.string(), z.object({ file: z.string(), dtype: z.literal("float32-le"), shape: z.array(z.number().int()) })),
  rating: z.string(),
});
export type TruthMeta = z.infer<typeof TruthMetaSchema>;

function toLittleEndian(a: Float32Array): Buffer {
  const buf = Buffer.allocUnsafe(a.length * 4);
  for (let i = 0; i < a.length; i++) buf.writeFloatLE(a[i]!, i * 4);
  return buf;
}

function shapeOf(t: Truth, name: ArrayName): number[] {
  const n = t[name].length;
  return name === "userFactors" || name === "movieFactors" ? [n / t.factors, t.factors] : [n];
}

/** Writes the world's hidden truth into `dir` (created if needed). */
export async function writeTruth(dir: string, world: World): Promise<void> {
  await mkdir(dir, { recursive: true });
  const t = world.truth;
  const meta: TruthMeta = {
    format: "recsys-sim-truth",
    version: 1,
    seed: world.options.seed,
    worldOptions: world.options,
    factors: t.factors,
    globalMean: t.globalMean,
    ratingNoise: t.ratingNoise,
    starCuts: t.starCuts,
    users: world.users.length,
    movieIds: world.movieIds,
    unlisted: {
      users: world.users.filter((_, u) => !world.listedUser[u]).map((u) => u.user_id),
      movies: world.movieIds.filter((_, i) => !world.listedMovie[i]),
    },
    files: Object.fromEntries(ARRAYS.map((name) => [name, { file: TRUTH_FILES[name], dtype: "float32-le" as const, shape: shapeOf(t, name) }])),
    rating: "stars = 1 + number of starCuts below (globalMean + userBias[u] + movieBias[i] + userFactors[u] . movieFactors[i] + N(0, ratingNoise))",
  };
  await writeFile(join(dir, TRUTH_FILES.meta), JSON.stringify(meta, null, 1) + "\n");
  for (const name of ARRAYS) await writeFile(join(dir, TRUTH_FILES[name]), toLittleEndian(t[name]));
}

/**
 * Reads a truth/ directory back (for evaluation or to replay a world without its seed).
 *
 *     const { meta, truth } = await readTruth("sim/truth");
 */
export async function readTruth(dir: string): Promise<{ meta: TruthMeta; truth: Truth }> {
  const meta = await readJsonFile(TruthMetaSchema, join(dir, TRUTH_FILES.meta), SIM_ERRORS.badTruth);
  const arrays = {} as Record<ArrayName, Float32Array>;
  for (const name of ARRAYS) {
    const path = join(dir, TRUTH_FILES[name]);
    const buf = await readFile(path).catch(() => { throw new InputError(SIM_ERRORS.badTruth, `${path}: cannot read`); });
    const expected = meta.files[name]?.shape.reduce((a, b) => a * b, 1);
    if (buf.length !== (expected ?? -1) * 4) throw new InputError(SIM_ERRORS.badTruth, `${path}: ${buf.length} bytes, expected ${expected} float32 values`);
    const a = new Float32Array(buf.length / 4);
    for (let i = 0; i < a.length; i++) a[i] = buf.readFloatLE(i * 4);
    arrays[name] = a;
  }
  return { meta, truth: { factors: meta.factors, globalMean: meta.globalMean, ratingNoise: meta.ratingNoise, starCuts: meta.starCuts, ...arrays } };
}
