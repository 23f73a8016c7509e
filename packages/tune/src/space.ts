import { z } from "zod";
import type { Rng } from "@recsys/core";
import { readYamlConfig, type EngineName } from "@recsys/train";

const Range = z.union([
  z.object({ min: z.number(), max: z.number(), log: z.boolean().default(false) }).strict()
    .refine((r) => r.min <= r.max, "min must not exceed max").refine((r) => !r.log || r.min > 0, "a log range needs min > 0"),
  z.object({ values: z.array(z.number()).min(1) }).strict(),
]);
export type Range = z.infer<typeof Range>;

/** Parameters drawn as whole numbers. */
const INTEGER = new Set(["factors", "batchSize", "neighbours", "epochs"]);

/**
 * A search space: each tunable hyper-parameter as a range (`{min, max, log}`, drawn uniformly,
 * or log-uniformly) or a list (`{values: [...]}`). `epochs` is not drawn: it is the resource
 * successive halving hands out, from its min (first rung) doubling up to its max.
 */
export const SpaceSchema = z.object({
  factors: Range.optional(), lr: Range.optional(), reg: Range.optional(), initStd: Range.optional(),
  batchSize: Range.optional(), neighbours: Range.optional(), shrinkage: Range.optional(),
  epochs: z.object({ min: z.number().int().min(1), max: z.number().int().min(1) }).strict()
    .refine((r) => r.min <= r.max, "min must not exceed max").optional(),
}).strict();
export type Space = z.infer<typeof SpaceSchema>;

/**
 * Default spaces per engine: the ranges around each engine's defaults where the published
 * MovieLens optima lie (Surprise/Koren: SGD lr 0.005-0.02, reg 0.02-0.1 at 20 epochs; KNNBaseline
 * k 20-60, shrinkage 50-200), widened one step each way.
 */
export const DEFAULT_SPACES: Record<EngineName, Space> = {
  sgd: { factors: { values: [25, 50, 100, 200] }, lr: { min: 0.003, max: 0.03, log: false }, reg: { min: 0.02, max: 0.3, log: true }, epochs: { min: 5, max: 40 } },
  tfjs: { factors: { values: [25, 50, 100] }, lr: { min: 0.001, max: 0.02, log: true }, reg: { min: 0.05, max: 0.5, log: true }, epochs: { min: 2, max: 16 } },
  knn: { neighbours: { values: [10, 20, 40, 60, 100] }, shrinkage: { min: 10, max: 300, log: true }, reg: { min: 0.02, max: 0.3, log: true } },
  blend: { reg: { min: 0.05, max: 0.2, log: true }, neighbours: { values: [20, 40, 60] } },
  // autorec (I-AutoRec on baseline residuals): lambda weighs a summed squared error, so it lives in
  // the tens to hundreds; up to 200 hidden units and 20 epochs keep a fold of the 385k-rating world
  // under a minute on one core (500 units cost 3.6 s an epoch there).
  autorec: { factors: { values: [50, 100, 200] }, lr: { min: 0.0005, max: 0.005, log: true }, reg: { min: 3, max: 300, log: true }, batchSize: { values: [16, 64, 256] }, epochs: { min: 5, max: 20 } },
};

export async function readSpaceFile(path: string): Promise<Space> {
  return readYamlConfig(SpaceSchema, path, "RECSYS_BAD_SPACE");
}

export type Drawn = Record<string, number>;

/** One configuration drawn from the space (keys in the space's order, epochs excluded). */
export function drawConfig(space: Space, rng: Rng): Drawn {
  const out: Drawn = {};
  for (const [key, range] of Object.entries(space)) {
    if (key === "epochs" || range === undefined) continue;
    const r = range as Range;
    let v: number;
    if ("values" in r) v = r.values[rng.int(r.values.length)]!;
    else if (r.log) v = Math.exp(Math.log(r.min) + rng.next() * (Math.log(r.max) - Math.log(r.min)));
    else v = r.min + rng.next() * (r.max - r.min);
    out[key] = INTEGER.has(key) ? Math.round(v) : Number(v.toPrecision(4));
  }
  return out;
}

/** The rungs of successive halving: epochs from min, doubling, ending exactly at max. One rung without an epochs range. */
export function rungEpochs(space: Space, fallback: number): number[] {
  if (!space.epochs) return [fallback];
  const rungs: number[] = [];
  for (let e = space.epochs.max; e >= space.epochs.min; e = Math.floor(e / 2)) {
    rungs.unshift(e);
    if (e === 1) break;
  }
  return rungs;
}
