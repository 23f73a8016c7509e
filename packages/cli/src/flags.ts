import { z } from "zod";

/** zod pieces for CLI flags, which arrive as strings. */
export const intFlag = (min = 0, max = Number.MAX_SAFE_INTEGER) =>
  z.string().regex(/^-?\d+$/, "must be a whole number").transform(Number).pipe(z.number().int().min(min).max(max));

export const numberFlag = (min = -Infinity, max = Infinity) =>
  z.string().refine((s) => s.trim() !== "" && Number.isFinite(Number(s)), "must be a number").transform(Number).pipe(z.number().min(min).max(max));

export const seedFlag = intFlag(0, 2 ** 32 - 1).default(42);

/** --force: replace an output recsys did not write (core's checkOutput says what never is). */
export const FORCE_FLAG = { force: { type: "boolean" } } as const;
export const forceFlag = z.boolean().default(false);
export const FORCE_HELP = "  --force             replace an --out that recsys did not write (never an input, a device or a link)";

/** Commands that take no positional arguments reject stray ones. */
export const noPositionals = z.array(z.string()).max(0, "takes no positional arguments").default([]);
