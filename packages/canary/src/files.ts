import { readdir, stat } from "node:fs/promises";
import { join } from "node:path";
import { parse } from "csv-parse";
import { InputError, openLogStream, withoutPlainTwins } from "@recsys/core";
import { CANARY_ERROR } from "./errors.ts";
import { countBad, type LoadStats } from "./records.ts";

/** Whether `path` is a directory, or an InputError naming what the file was meant to be. */
export async function mustExist(path: string, what: string): Promise<{ isDirectory: boolean }> {
  const s = await stat(path).catch((err: NodeJS.ErrnoException) => {
    throw new InputError(CANARY_ERROR.badFile, `${what} ${path}: cannot read (${err.code ?? String(err)})`);
  });
  return { isDirectory: s.isDirectory() };
}

/**
 * The `*.csv` and `*.csv.gz` files below a directory, subdirectories included (a platform keeps
 * one folder per replica), in path order. The API gzips a rotated `responses-*.csv` to
 * `.csv.gz` by rename-then-remove, so for an instant both exist: the complete `.gz` is taken
 * and its plain twin skipped, never both.
 */
export async function csvFilesIn(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return withoutPlainTwins(entries.filter((e) => e.isFile() && /\.csv(\.gz)?$/.test(e.name)).map((e) => join(e.parentPath, e.name))).sort();
}

/**
 * Streams a CSV file with a header as rows of the wanted columns (found by name). Rows with
 * the wrong number of fields or broken quoting are counted as bad and skipped; a header
 * without a wanted column is an InputError. An empty file yields nothing (a log just created).
 */
export async function* csvRows<C extends string>(
  path: string, wanted: readonly C[], stats: LoadStats, expected: string,
): AsyncGenerator<{ row: Record<C, string>; where: string }> {
  const source = openLogStream(path);
  const parser = source.pipe(parse({ relax_column_count: true, skip_empty_lines: true, skip_records_with_error: true }));
  // A corrupt .gz fails in the source, which pipe() would leave the parser waiting on forever.
  source.on("error", (err) => parser.destroy(new InputError(CANARY_ERROR.badFile, `${path}: cannot read (${err.message})`)));
  parser.on("skip", (err: { lines?: number }) => { stats.lines++; countBad(stats, "bad_csv", `${path}:${err.lines ?? "?"}`); });
  let columns: Map<string, number> | null = null;
  for await (const fields of parser as AsyncIterable<string[]>) {
    stats.lines++;
    if (!columns) {
      columns = new Map(fields.map((name, i) => [name.trim(), i]));
      const missing = wanted.filter((c) => !columns!.has(c));
      if (missing.length) throw new InputError(CANARY_ERROR.badTelemetry, `${path}: header lacks ${missing.join(", ")} (expected ${expected})`);
      continue;
    }
    const where = `${path}:${stats.lines}`;
    if (fields.length !== columns.size) { countBad(stats, "bad_column_count", where); continue; }
    yield { row: Object.fromEntries(wanted.map((c) => [c, fields[columns!.get(c)!]!])) as Record<C, string>, where };
  }
}
