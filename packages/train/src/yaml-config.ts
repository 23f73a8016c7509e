import { readFile } from "node:fs/promises";
import { isMap, isScalar, LineCounter, parseDocument, type Document } from "yaml";
import type { z } from "zod";
import { InputError } from "@recsys/core";

/**
 * Reads a YAML config file through a zod schema (strict schemas reject unknown keys). Every
 * failure is one InputError that names the file, the line and the key, and says what is wrong:
 * `params.yaml:3: train.lr: expected number, received string`. The `yaml` package gives the
 * line of each node, so the position is the one in the user's file, not a guess.
 *
 *     const params = await readYamlConfig(ParamsFileSchema, "params.yaml");
 */
export async function readYamlConfig<S extends z.ZodType>(schema: S, path: string, code = "RECSYS_BAD_CONFIG"): Promise<z.output<S>> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (err) {
    throw new InputError(code, `${path}: cannot read (${(err as NodeJS.ErrnoException).code ?? String(err)}); check the path`);
  }
  return parseYamlConfig(schema, text, path, code);
}

/** readYamlConfig on text already in memory; `path` only names it in errors. */
export function parseYamlConfig<S extends z.ZodType>(schema: S, text: string, path: string, code = "RECSYS_BAD_CONFIG"): z.output<S> {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: true });
  const syntax = doc.errors[0];
  if (syntax) {
    const line = syntax.linePos?.[0].line ?? 1;
    throw new InputError(code, `${path}:${line}: not valid YAML (${syntax.message.split("\n")[0]}); fix the syntax`);
  }
  const result = schema.safeParse(doc.toJS() ?? {});
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const unknown = issue.code === "unrecognized_keys" ? (issue as { keys: string[] }).keys : [];
  const keyPath = unknown.length ? [...issue.path, unknown[0]!] : issue.path;
  const where = keyPath.length ? keyPath.map(String).join(".") : "(top level)";
  const what = unknown.length ? `unknown key (allowed: ${allowedKeys(schema, issue.path)})` : issue.message;
  throw new InputError(code, `${path}:${lineOf(doc, lines, keyPath)}: ${where}: ${what}`);
}

/** The line of the node at `keyPath` (its key when it has one), else of the nearest parent that exists. */
function lineOf(doc: Document, lines: LineCounter, keyPath: PropertyKey[]): number {
  for (let depth = keyPath.length; depth > 0; depth--) {
    const parent = depth > 1 ? doc.getIn(keyPath.slice(0, depth - 1) as unknown[], true) : doc.contents;
    if (!isMap(parent)) continue;
    const pair = parent.items.find((p) => isScalar(p.key) && String(p.key.value) === String(keyPath[depth - 1]));
    const range = pair && isScalar(pair.key) ? pair.key.range : undefined;
    if (range) return lines.linePos(range[0]).line;
  }
  return 1;
}

/** The keys a strict object schema allows at `path`, for the unknown-key message. */
function allowedKeys(schema: z.ZodType, path: PropertyKey[]): string {
  let s: unknown = schema;
  for (const key of path) s = unwrap(s)?.shape?.[key as string];
  const shape = unwrap(s)?.shape;
  return shape ? Object.keys(shape).join(", ") : "see the documentation";
}

function unwrap(s: unknown): { shape?: Record<string, unknown> } | undefined {
  let cur = s as { shape?: Record<string, unknown>; unwrap?: () => unknown } | undefined;
  // Optional and default wrappers hide the object's shape one level down.
  while (cur && !cur.shape && typeof cur.unwrap === "function") cur = cur.unwrap() as typeof cur;
  return cur;
}
