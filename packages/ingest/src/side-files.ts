import { readFile } from "node:fs/promises";
import { MovieSchema, parseOrThrow, UserSchema, type Movie, type User } from "@recsys/core";
import type { z } from "zod";
import { stripBom } from "./bom.ts";
import { badSideFile, unreadable } from "./errors.ts";

/** Reads a file or throws the exit-2 error that names it. */
export async function readInputFile(path: string, encoding: BufferEncoding = "utf8"): Promise<string> {
  try {
    return stripBom(await readFile(path, encoding));
  } catch (err) {
    throw unreadable(path, `cannot read (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
}

/** A JSON array, or one JSON object per line (blank lines skipped), each checked by `schema`. */
async function readRecords<S extends z.ZodType>(schema: S, path: string): Promise<z.output<S>[]> {
  const text = await readInputFile(path);
  if (text.trimStart().startsWith("[")) {
    let items: unknown;
    try {
      items = JSON.parse(text);
    } catch (err) {
      throw badSideFile(path, `not valid JSON (${(err as Error).message})`);
    }
    if (!Array.isArray(items)) throw badSideFile(path, "expected a JSON array or one JSON object per line");
    return items.map((item, i) => parseOrThrow(schema, item, `${path}[${i}]`, "RECSYS_INGEST_BAD_SIDE_FILE"));
  }
  const out: z.output<S>[] = [];
  text.split("\n").forEach((line, i) => {
    if (line.trim() === "") return;
    let item: unknown;
    try {
      item = JSON.parse(line);
    } catch {
      throw badSideFile(`${path}:${i + 1}`, "not valid JSON");
    }
    out.push(parseOrThrow(schema, item, `${path}:${i + 1}`, "RECSYS_INGEST_BAD_SIDE_FILE"));
  });
  return out;
}

/**
 * User side information (the user service's records) keyed by id; a later record for the same
 * id replaces an earlier one. A bad record stops ingestion with exit 2: side files are
 * reference data the caller chose, unlike the stream's event lines.
 */
export async function readUserSideFile(path: string): Promise<Map<number, User>> {
  return new Map((await readRecords(UserSchema, path)).map((u) => [u.user_id, u]));
}

/** Movie side information keyed by movie id, like readUserSideFile. */
export async function readMovieSideFile(path: string): Promise<Map<string, Movie>> {
  return new Map((await readRecords(MovieSchema, path)).map((m) => [m.id, m]));
}
