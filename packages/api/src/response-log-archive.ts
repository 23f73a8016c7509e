import { open, readdir, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { gzip } from "node:zlib";
import { writeFileAtomic } from "@recsys/core";

/** `responses-YYYYMMDD[-n].csv`, or the same compressed once closed (`.csv.gz`). */
export const RESPONSE_FILE = /^responses-(\d{8})(?:-(\d+))?\.csv(\.gz)?$/;

/** The member table written next to a rotated `X.csv.gz`, as `X.csv.gz.members`. */
export const MEMBERS_SUFFIX = ".members";

/** About this many uncompressed bytes (whole lines) go into one gzip member. */
export const MEMBER_BYTES = 1 << 20;

/**
 * Where each gzip member of a rotated log sits: `[compressed start, compressed length,
 * uncompressed start, uncompressed length]`, in file order. `gzBytes` is the `.gz` file's size,
 * so a table that does not belong to the file next to it is never trusted.
 */
export interface GzipMembers {
  version: 1;
  gzBytes: number;
  members: Array<[number, number, number, number]>;
}

const gzipAsync = promisify(gzip);

/**
 * zlib level 4, not the default 6: on API-shaped log lines it spent 3.8 µs of CPU a line against
 * 11.6 (a third of what serving a cached request costs) for 11-14% more bytes (bench/RESULTS.md,
 * "Response log size"). Rotation runs on libuv's pool, but on a saturated machine that CPU is
 * taken from the requests all the same.
 */
const GZIP_LEVEL = 4;

/**
 * Gzips `source` as a series of independent gzip members of about `memberBytes` whole lines
 * each, recording where each one starts in `table`. Each chunk of `source` is copied before the
 * next is read, so a source may reuse its buffer. The concatenation is an ordinary gzip file
 * (gunzip, zcat and Node read every member in turn); the table lets a reader inflate only the
 * member that holds a line instead of everything before it.
 *
 *     const table: GzipMembers = { version: 1, gzBytes: 0, members: [] };
 *     await writeFileAtomic("x.csv.gz", gzipInMembers(createReadStream("x.csv"), table));
 */
export async function* gzipInMembers(source: AsyncIterable<Buffer> | Iterable<Buffer>, table: GzipMembers, memberBytes = MEMBER_BYTES): AsyncGenerator<Buffer> {
  // One buffer, reused for every member: concatenating fresh ~1 MiB buffers per member cost the
  // API's main thread ~2 µs a logged line at rotation, mostly page faults on new memory.
  let buf = Buffer.allocUnsafe(2 * memberBytes), used = 0, zAt = 0, uAt = 0;
  async function* flush(end: number): AsyncGenerator<Buffer> {
    const member = await gzipAsync(buf.subarray(0, end), { level: GZIP_LEVEL });
    table.members.push([zAt, member.length, uAt, end]);
    zAt += member.length;
    uAt += end;
    buf.copyWithin(0, end, used);
    used -= end;
    yield member;
  }
  for await (const chunk of source) {
    for (let from = 0; from < chunk.length;) {
      if (used === buf.length) buf = Buffer.concat([buf], 2 * buf.length); // a line longer than the buffer
      const n = chunk.copy(buf, used, from, from + Math.min(chunk.length - from, buf.length - used));
      used += n;
      from += n;
      // Cut after the first line end at or past memberBytes: members hold whole lines only.
      for (let nl; used >= memberBytes && (nl = buf.subarray(0, used).indexOf(10, memberBytes - 1)) !== -1;) yield* flush(nl + 1);
    }
  }
  if (used > 0) yield* flush(used);
  table.gzBytes = zAt;
}

/**
 * A file's bytes, read into one reused buffer: each chunk is valid until the next is asked for
 * (gzipInMembers copies it first). A rotation then allocates nothing per chunk.
 */
async function* fileChunks(path: string): AsyncGenerator<Buffer> {
  const fh = await open(path, "r");
  try {
    const buf = Buffer.allocUnsafe(MEMBER_BYTES);
    for (let n; (n = (await fh.read(buf, 0, buf.length, null)).bytesRead) > 0;) yield buf.subarray(0, n);
  } finally {
    await fh.close();
  }
}

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
    // The member table follows the .gz: a crash in between leaves a .gz read from its start.
    const table: GzipMembers = { version: 1, gzBytes: 0, members: [] };
    await writeFileAtomic(join(dir, `${name}.gz`), gzipInMembers(fileChunks(join(dir, name)), table));
    await writeFileAtomic(join(dir, `${name}.gz${MEMBERS_SUFFIX}`), JSON.stringify(table));
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
    await rm(join(dir, `${f.name}${MEMBERS_SUFFIX}`), { force: true });
    total -= f.size;
    removed.push(`api: retention removed ${join(dir, f.name)} (${f.size} bytes, ${reason}); traces of its responses now find nothing, even for a release still kept`);
  }
  return removed;
}

function order(a: RegExpExecArray, b: RegExpExecArray): number {
  return a[1]!.localeCompare(b[1]!) || Number(a[2] ?? 0) - Number(b[2] ?? 0);
}
