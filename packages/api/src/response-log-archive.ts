import { createReadStream } from "node:fs";
import { readdir, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import { createGzip } from "node:zlib";
import { writeFileAtomic } from "@recsys/core";

/** `responses-YYYYMMDD[-n].csv`, or the same compressed once closed (`.csv.gz`). */
export const RESPONSE_FILE = /^responses-(\d{8})(?:-(\d+))?\.csv(\.gz)?$/;

export interface RetentionPolicy {
  /** A closed file goes once its day ended more than this long ago. */
  maxAgeMs: number;
  /** Closed files go, oldest first, while all response files together exceed this. */
  maxTotalBytes: number;
}

const DAY_MS = 86_400_000;

/**
 * Compresses every closed response file of `dir` (all but `current`) to `.csv.gz`, then applies
 * `policy` to the compressed ones, oldest first. Returns one line per removed file, for the
 * operator's log: the API cannot know which releases a trace may still need, so every removal
 * is said out loud. A crash mid-way leaves the plain file (compressed again next time) and at
 * worst a hidden temp sibling that core's atomic writer cleans up.
 *
 *     const removed = await archiveResponseLogs("logs/api", "responses-20261202.csv", policy, Date.now());
 */
export async function archiveResponseLogs(dir: string, current: string, policy: RetentionPolicy, nowMs: number): Promise<string[]> {
  const now = RESPONSE_FILE.exec(current);
  for (const name of await readdir(dir)) {
    const m = RESPONSE_FILE.exec(name);
    // Only files older than the one being written are closed (a late line may reopen an older day: then newer ones wait).
    if (!m || m[3] || !now || order(m, now) >= 0) continue;
    // Rename-then-remove: a reader sees the plain file, or the complete .gz, or both for an instant.
    await writeFileAtomic(join(dir, `${name}.gz`), createReadStream(join(dir, name)).pipe(createGzip()));
    await rm(join(dir, name));
  }
  const files = await Promise.all((await readdir(dir)).flatMap((name) => {
    const m = RESPONSE_FILE.exec(name);
    return m ? [stat(join(dir, name)).then((s) => ({ name, day: m[1]!, part: Number(m[2] ?? 0), gz: Boolean(m[3]), size: s.size }))] : [];
  }));
  files.sort((a, b) => a.day.localeCompare(b.day) || a.part - b.part);
  let total = files.reduce((n, f) => n + f.size, 0);
  const removed: string[] = [];
  for (const f of files) {
    if (!f.gz) continue;
    const endedMs = Date.parse(`${f.day.slice(0, 4)}-${f.day.slice(4, 6)}-${f.day.slice(6)}T00:00:00Z`) + DAY_MS;
    const reason = nowMs - endedMs > policy.maxAgeMs ? `older than ${policy.maxAgeMs / DAY_MS} days`
      : total > policy.maxTotalBytes ? `response logs over ${policy.maxTotalBytes} bytes` : null;
    if (!reason) continue;
    await rm(join(dir, f.name));
    total -= f.size;
    removed.push(`api: retention removed ${join(dir, f.name)} (${f.size} bytes, ${reason}); traces of its responses now find nothing, even for a release still kept`);
  }
  return removed;
}

function order(a: RegExpExecArray, b: RegExpExecArray): number {
  return a[1]!.localeCompare(b[1]!) || Number(a[2] ?? 0) - Number(b[2] ?? 0);
}
