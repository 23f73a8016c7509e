import { appendFile, mkdir, readFile } from "node:fs/promises";
import { dirname } from "node:path";
import { z } from "zod";
import { EXIT, parseOrThrow } from "@recsys/core";

/**
 * The release history: `releases.jsonl` in the platform's state directory, one JSON object per
 * finished deploy, appended (never rewritten), oldest first. It is the audit trail that ties a
 * release id (the `release` column of every served request) to its model bytes and git commit.
 */
export const ReleaseRecordSchema = z.object({
  releaseId: z.string(),
  /**
   * `initial` (the platform's first release), `promoted`, `rolled-back`, `failed` (the deploy broke;
   * traffic stayed on stable), or `refused` (the fairness gate failed before any canary started).
   */
  verdict: z.enum(["initial", "promoted", "rolled-back", "failed", "refused"]),
  /** One line: why this verdict (the analysis reasons, "max-wait reached", the error). */
  reason: z.string(),
  modelId: z.string(),
  modelHash: z.string(),
  modelDir: z.string(),
  dataHash: z.string(),
  commit: z.string(),
  /** The stable release this one was measured against (and replaced, if promoted). */
  previousReleaseId: z.string().nullable(),
  startedAt: z.string(),
  /** When the canary took its traffic share (the analysis window starts here). */
  canaryAt: z.string().nullable(),
  decidedAt: z.string().nullable(),
  finishedAt: z.string(),
  /** The analysis that decided: verdict, reasons and per-release figures, as the canary package reports them. */
  evidence: z.unknown().nullable(),
  /** Replica ids serving this release when the deploy finished (empty after a rollback). */
  replicas: z.array(z.string()),
  /** md5 of the release's manifest (`manifests/<releaseId>.json`); absent in records written before manifests. */
  manifestMd5: z.string().optional(),
  /** The fairness gate's verdict on the model before the canary (requirements with their evidence), when it ran. */
  fairness: z.looseObject({ passed: z.boolean(), reason: z.string() }).optional(),
});
export type ReleaseRecord = z.infer<typeof ReleaseRecordSchema>;

/**
 * Appends one record as a single line. One `appendFile` of one line is atomic enough for a
 * history written by one deploy at a time (the state directory's lock guarantees that).
 */
export async function appendRelease(path: string, record: ReleaseRecord): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await appendFile(path, JSON.stringify(parseOrThrow(ReleaseRecordSchema, record, "release record")) + "\n");
}

/**
 * Reads the history, oldest first; a missing file is an empty history. A line that does not
 * parse is an InputError naming the file and line (the history is never silently trimmed).
 *
 *     const last = (await readReleases("runs/platform/releases.jsonl")).at(-1);
 */
export async function readReleases(path: string): Promise<ReleaseRecord[]> {
  const text = await readFile(path, "utf8").catch((err: NodeJS.ErrnoException) => {
    if (err.code === "ENOENT") return "";
    throw err;
  });
  return text.split("\n").flatMap((line, i) => {
    if (line.trim() === "") return [];
    let json: unknown;
    try {
      json = JSON.parse(line);
    } catch {
      json = undefined;
    }
    return [parseOrThrow(ReleaseRecordSchema, json, `${path}:${i + 1}`, "DEPLOY_BAD_INPUT")];
  });
}

/**
 * A new release id: `r<yyyymmdd>-<hhmmss>-<first 8 of the model hash>`, valid for the router
 * and the API alike, sortable by time, and readable in a request log.
 *
 *     releaseIdFor(new Date("2026-12-01T05:22:44Z"), "3fa2...") // "r20261201-052244-3fa2..."
 */
export function releaseIdFor(now: Date, modelHash: string): string {
  const iso = now.toISOString();
  return `r${iso.slice(0, 10).replaceAll("-", "")}-${iso.slice(11, 19).replaceAll(":", "")}-${modelHash.slice(0, 8)}`;
}

/**
 * The exit code a finished deploy reports: 0 promoted (or the initial release), 5 rolled back, 4
 * refused by the fairness gate, so CI fails visibly without mistaking it for a bug (1). A deploy
 * that broke throws instead of returning a record.
 *
 *     process.exitCode = releaseExitCode(await deployToRunningPlatform(opts));
 */
export function releaseExitCode(record: Pick<ReleaseRecord, "verdict">): number {
  if (record.verdict === "refused") return EXIT.fairnessFailed;
  return record.verdict === "rolled-back" ? EXIT.rolledBack : EXIT.ok;
}
