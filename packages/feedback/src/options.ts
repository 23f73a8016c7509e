import { availableParallelism } from "node:os";
import { z } from "zod";
import { RESULT_COUNT } from "@recsys/api";
import { AGE_BANDS } from "@recsys/core";
import { badEpsilon, FEEDBACK_ERRORS } from "./errors.ts";

/** The API fills round(epsilon x 20) of its 20 slots by exploration, so shares come in 0.05 steps. */
const SLOT = 1 / RESULT_COUNT;

const onSlotGrid = (v: number) => Math.abs(v / SLOT - Math.round(v / SLOT)) <= 1e-9;

/**
 * Reads `0,0.05,0.1` into [0, 0.05, 0.1]. Each share must be a number in 0..0.5 (the API's
 * range) on the 0.05 grid (a share between two steps would silently round to one of them), and
 * no share may repeat. Errors name the item and the fix (exit 2).
 *
 *     parseEpsilonList("0, 0.1") // => [0, 0.1]
 */
export function parseEpsilonList(text: string): number[] {
  const items = text.split(",").map((s) => s.trim());
  if (items.some((s) => s === "")) throw badEpsilon(`'${text}' has an empty item`);
  const values = items.map((s) => {
    const v = Number(s);
    if (!Number.isFinite(v)) throw badEpsilon(`'${s}' is not a number`);
    if (v < 0 || v > 0.5) throw badEpsilon(`${s} is outside 0..0.5`);
    if (!onSlotGrid(v)) throw badEpsilon(`${s} is not a whole number of the 20 slots (the API rounds it to ${Math.round(v / SLOT) * SLOT})`);
    return Math.round(v / SLOT) * SLOT;
  });
  if (new Set(values).size !== values.length) throw badEpsilon(`'${text}' repeats a share`);
  if (values.length > 6) throw badEpsilon(`${values.length} shares are more than the 6 a report can put side by side`);
  return values;
}

/** Groups a movie can be pushed to: the labels the loop measures quality by. */
export const PUSH_GROUPS = ["gender:F", "gender:M", ...AGE_BANDS.map((b) => `age:${b.label}`)] as [string, ...string[]];

/** The experiment's settings, defaults in one place; unknown keys are refused. */
export const ExperimentOptionsSchema = z.object({
  rounds: z.number().int().min(1).max(100).default(10),
  epsilons: z.array(z.number().min(0).max(0.5)).min(1).max(6)
    .refine((e) => e.every(onSlotGrid) && new Set(e).size === e.length, "shares must be distinct and whole numbers of the API's 20 slots (steps of 0.05)")
    .default([0, 0.05, 0.1]),
  /** Worlds (seed, seed + 1, ...): each is run once per epsilon; the report averages over them. */
  seeds: z.number().int().min(1).max(20).default(2),
  seed: z.number().int().min(0).max(2 ** 32 - 1).default(42),
  /** The default world is sized so the default run (10 rounds x 3 epsilons x 2 seeds) stays under 10 minutes on 2 cores. */
  users: z.number().int().min(20).max(100_000).default(2000),
  movies: z.number().int().min(25).max(50_000).default(800),
  /** Days of simulated history before the loop starts (what the first model is trained on). */
  historyDays: z.number().int().min(1).max(365).default(14),
  /** The group loop: the group a movie is pushed to (`gender:F`, `age:25-34`, ...) and for how many rounds. */
  pushGroup: z.enum(PUSH_GROUPS, { error: `must be one of ${PUSH_GROUPS.join(", ")}` }).default("gender:F"),
  pushRounds: z.number().int().min(0).max(100).default(3),
  /** Runs at a time, each on a worker thread (1: in this thread). */
  workers: z.number().int().min(1).max(16).default(Math.min(2, availableParallelism())),
}).strict();

export type ExperimentOptions = z.input<typeof ExperimentOptionsSchema>;
export type ResolvedExperimentOptions = z.output<typeof ExperimentOptionsSchema>;
export { FEEDBACK_ERRORS };
