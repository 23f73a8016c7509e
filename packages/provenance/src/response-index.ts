import { readFile, stat } from "node:fs/promises";
import { z } from "zod";
import { MEMBERS_SUFFIX } from "@recsys/api";
import { writeFileAtomic } from "@recsys/core";
import { inflate, readBytes } from "./file-bytes.ts";
import { parseJson } from "./json.ts";

/**
 * The API's own request ids are `<8 hex process prefix>-<base-36 counter>`, and one process
 * writes one log directory with a growing counter: per file, the counter range of each prefix
 * says whether an id can be there at all. Ids a client sent (any other token) are flagged per
 * file instead, so a lookup never misses them.
 */
const OWN_ID = /^([0-9a-f]{8})-([0-9a-z]{1,12})$/;

/** A block of about this many bytes of a log file is the unit a lookup reads. */
const BLOCK_BYTES = 1 << 20;

const BlockSchema = z.object({
  start: z.number().int().nonnegative(),
  end: z.number().int().nonnegative(),
  ranges: z.record(z.string(), z.tuple([z.number(), z.number()])),
  foreign: z.boolean(),
  /** In a rotated `.gz` written in members: the compressed bytes [start, end) of the block's member. */
  gz: z.tuple([z.number().int().nonnegative(), z.number().int().nonnegative()]).optional(),
});
/** The API's member table next to a rotated log (see gzipInMembers in packages/api). */
const MembersSchema = z.object({
  version: z.literal(1),
  gzBytes: z.number().int().nonnegative(),
  members: z.array(z.tuple([z.number().int().nonnegative(), z.number().int().nonnegative(), z.number().int().nonnegative(), z.number().int().nonnegative()])),
});
const EntrySchema = z.object({
  /**
   * Bytes read so far, up to the last complete line: logs only grow, the tail is read next time.
   * A `.gz` (a rotated log, never appended to) is read whole once: this is then its compressed
   * size, and its blocks are positions in the uncompressed stream.
   */
  indexedBytes: z.number().int().nonnegative(),
  blocks: z.array(BlockSchema),
});
const IndexSchema = z.object({ version: z.literal(3), files: z.record(z.string(), EntrySchema) });
type Entry = z.infer<typeof EntrySchema>;
type Block = z.infer<typeof BlockSchema>;

/**
 * A byte range of a response log that may hold the id looked for; in a rotated `.gz`, positions
 * in its uncompressed stream, and `gz` the compressed bytes of the members that hold them when
 * the log was written in members (else the reader inflates from the start).
 */
export interface Segment { file: string; start: number; end: number; gz?: [number, number] }

/**
 * The parts of the response files that can hold `requestId`, from an index at `indexPath`
 * brought up to date first (only bytes appended since the last lookup are read; a file that
 * shrank was replaced and is read again). Per block of about 1 MiB the index keeps each
 * prefix's counter range, so a lookup reads a few MiB whatever the size of the logs. A rotated
 * `.csv.gz` is indexed by one whole-file scan when it first appears; its plain predecessor
 * drops out of the index as it disappears.
 *
 *     const segments = await candidateSegments("runs/platform/cache/index/responses.json", files, "7234a07d-1f");
 */
export async function candidateSegments(indexPath: string, files: readonly string[], requestId: string): Promise<Segment[]> {
  const text = await readFile(indexPath, "utf8").catch(() => null);
  const old = text ? IndexSchema.safeParse(parseJson(text)).data?.files ?? {} : {};
  const next: Record<string, Entry> = {};
  let changed = false;
  const present: string[] = [];
  for (const file of files) {
    // A file rotated away since it was listed has nothing left to find.
    const size = await stat(file).then((st) => st.size, () => null);
    if (size === null) continue;
    present.push(file);
    const known = old[file];
    const base = known && known.indexedBytes <= size ? known : { indexedBytes: 0, blocks: [] };
    next[file] = base.indexedBytes === size ? base : await extend(file, base, size);
    changed ||= next[file] !== known;
  }
  // Best effort: an auditor may trace from a state directory they cannot write; the lookup still works.
  if (changed || Object.keys(old).length !== present.length) await writeFileAtomic(indexPath, JSON.stringify({ version: 3, files: next })).catch(() => undefined);
  const own = OWN_ID.exec(requestId);
  const n = own ? parseInt(own[2]!, 36) : NaN;
  const holds = (b: Block) => b.foreign || (own !== null && b.ranges[own[1]!] !== undefined && n >= b.ranges[own[1]!]![0] && n <= b.ranges[own[1]!]![1]);
  const out: Segment[] = [];
  for (const file of present) {
    for (const b of next[file]!.blocks.filter(holds)) {
      const last = out.at(-1);
      // Adjacent members concatenated are a gzip file too: one read covers both.
      if (last && last.file === file && last.end === b.start && (last.gz === undefined) === (b.gz === undefined)) {
        last.end = b.end;
        if (last.gz && b.gz) last.gz[1] = b.gz[1];
      } else out.push({ file, start: b.start, end: b.end, ...(b.gz ? { gz: [b.gz[0], b.gz[1]] as [number, number] } : {}) });
    }
  }
  return out;
}

/**
 * Reads `file` from the start of its last, unfinished block to `size` and cuts complete lines
 * into blocks of about BLOCK_BYTES, each with its prefixes' counter ranges.
 */
async function extend(file: string, entry: Entry, size: number): Promise<Entry> {
  if (file.endsWith(".gz")) {
    const compressed = await readFile(file);
    const members = await memberTable(file, compressed.length);
    if (members) {
      // One block per member, carrying its compressed range: a lookup inflates that member only.
      const blocks: Block[] = [];
      for (const [zStart, zLength, uStart] of members) {
        const bytes = await inflateLog(file, compressed.subarray(zStart, zStart + zLength));
        const block: Block = { start: uStart, end: uStart + bytes.length, ranges: {}, foreign: false, gz: [zStart, zStart + zLength] };
        for (let start = 0, nl = bytes.indexOf(10); nl !== -1; start = nl + 1, nl = bytes.indexOf(10, start)) addLine(block, bytes, start, nl);
        blocks.push(block);
      }
      return { indexedBytes: size, blocks };
    }
    return { indexedBytes: size, blocks: cutBlocks(await inflateLog(file, compressed), 0, []).blocks };
  }
  const kept = entry.blocks.slice();
  const reopen = kept.length && kept.at(-1)!.end - kept.at(-1)!.start < BLOCK_BYTES ? kept.pop()!.start : entry.indexedBytes;
  const bytes = await readBytes(file, reopen, size);
  const cut = cutBlocks(bytes, reopen, kept);
  return { indexedBytes: reopen + cut.consumed, blocks: cut.blocks };
}

/** A rotated log's content, or its members'; refused as a whole file the user can move away. */
function inflateLog(file: string, compressed: Buffer): Promise<Buffer> {
  return inflate(file, compressed, "gzip file", "move it out of the telemetry directory");
}

/**
 * The member table the API wrote next to `file`, when there is one that fits it (members
 * contiguous from byte 0 to the file's end); otherwise null, and the file is read whole.
 */
async function memberTable(file: string, gzBytes: number): Promise<Array<[number, number, number, number]> | null> {
  const text = await readFile(`${file}${MEMBERS_SUFFIX}`, "utf8").catch(() => null);
  const table = text === null ? undefined : MembersSchema.safeParse(parseJson(text)).data;
  if (!table || table.gzBytes !== gzBytes) return null;
  let z = 0, u = 0;
  for (const [zStart, zLength, uStart, uLength] of table.members) {
    if (zStart !== z || uStart !== u) return null;
    z += zLength;
    u += uLength;
  }
  return z === gzBytes ? table.members : null;
}

/** Cuts the complete lines of `bytes` (found at `offset` of the log) into blocks after `kept`. */
function cutBlocks(bytes: Buffer, offset: number, kept: Block[]): { blocks: Block[]; consumed: number } {
  let block: Block = { start: offset, end: offset, ranges: {}, foreign: false };
  let start = 0;
  for (let nl = bytes.indexOf(10); nl !== -1; start = nl + 1, nl = bytes.indexOf(10, start)) {
    addLine(block, bytes, start, nl);
    block.end = offset + nl + 1;
    if (block.end - block.start >= BLOCK_BYTES) {
      kept.push(block);
      block = { start: block.end, end: block.end, ranges: {}, foreign: false };
    }
  }
  if (block.end > block.start) kept.push(block);
  return { blocks: kept, consumed: start };
}

/** Folds the request id of the line bytes[start, nl) into the block's ranges. */
function addLine(block: Block, bytes: Buffer, start: number, nl: number): void {
  const c1 = bytes.indexOf(44, start);
  const c2 = c1 === -1 || c1 > nl ? -1 : bytes.indexOf(44, c1 + 1);
  if (c2 === -1 || c2 > nl) return; // a line too short to hold an id
  const id = bytes.toString("latin1", c1 + 1, c2);
  if (id === "request_id") return; // the header
  const own = OWN_ID.exec(id);
  if (!own) {
    block.foreign = true;
    return;
  }
  const n = parseInt(own[2]!, 36), r = block.ranges[own[1]!];
  if (!r) block.ranges[own[1]!] = [n, n];
  else { r[0] = Math.min(r[0], n); r[1] = Math.max(r[1], n); }
}
