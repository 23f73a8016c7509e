import type { z } from "zod";
import { readFile } from "node:fs/promises";
import { InputError, describeIssues } from "./errors.ts";

/**
 * Parses `value` with `schema`, or throws an InputError naming `where` (a file, a flag, a
 * URL parameter) and every field that is wrong.
 *
 *     const cfg = parseOrThrow(ConfigSchema, JSON.parse(text), "router.json");
 */
export function parseOrThrow<S extends z.ZodType>(schema: S, value: unknown, where: string, code = "RECSYS_BAD_INPUT"): z.output<S> {
  const result = schema.safeParse(value);
  if (!result.success) throw new InputError(code, `${where}: ${describeIssues(result.error.issues)}`);
  return result.data;
}

/** Reads and parses a JSON file through a schema; a missing file or bad JSON is an InputError too. */
export async function readJsonFile<S extends z.ZodType>(schema: S, path: string, code = "RECSYS_BAD_FILE"): Promise<z.output<S>> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (err) {
    throw new InputError(code, `${path}: cannot read (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new InputError(code, `${path}: not valid JSON (${(err as Error).message})`);
  }
  return parseOrThrow(schema, json, path, code);
}
