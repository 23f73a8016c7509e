import { createReadStream } from "node:fs";
import type { Readable } from "node:stream";
import { createGunzip } from "node:zlib";

/**
 * Log file names or paths without a plain `X.csv` whose `X.csv.gz` is among them: the API gzips a
 * rotated log by rename-then-remove, so for an instant both exist, and only the complete `.gz`
 * may be read (never both: every line would count twice).
 *
 *     withoutPlainTwins(["a.csv", "a.csv.gz", "b.csv"]) // ["a.csv.gz", "b.csv"]
 */
export function withoutPlainTwins(paths: readonly string[]): string[] {
  const all = new Set(paths);
  return paths.filter((p) => !all.has(`${p}.gz`));
}

/**
 * The bytes of a log file, decompressed when its name ends in `.gz`: the one reader for the
 * API's response logs, plain or rotated (a multi-member gzip included), in ingest, the canary
 * and provenance.
 *
 *     for await (const chunk of openLogStream("logs/api/responses-20261201.csv.gz")) ...
 */
export function openLogStream(path: string): Readable {
  const raw = createReadStream(path, { highWaterMark: 1 << 20 });
  if (!path.endsWith(".gz")) return raw;
  // 1 MiB output chunks: with zlib's default 16 KiB a 64 MiB log inflates about 15 times slower.
  const gunzip = createGunzip({ chunkSize: 1 << 20 });
  // pipe() does not forward a read error (a missing file) to the gunzip stream its reader holds.
  raw.on("error", (err) => gunzip.destroy(err));
  return raw.pipe(gunzip);
}
