import { open, readFile, stat } from "node:fs/promises";
import { z } from "zod";
import { writeFileAtomic } from "@recsys/core";
import { parseJson } from "./json.ts";

/**
 * The API's own request ids are `<8 hex process prefix>-<base-36 counter>`, and one process
 * writes one log directory with a growing counter: per file, the counter range of each prefix
 * says whether an id can be there at all. Ids a client sent (any other token) are flagged per
 * file instead, so a lookup never misses them.
 */
const OWN_ID = /^([0-9a-f]{8})-([0-9a-z]{1,12})$/;

const EntrySchema = z.object({
  /** Bytes read so far, up to the last complete line: logs only grow, the tail is read next time. */
  indexedBytes: z.number().int().nonnegative(),
  ranges: z.record(z.string(), z.tuple([z.number(), z.number()])),
  foreign: z.boolean(),
});
const IndexSchema = z.object({ version: z.literal(1), files: z.record(z.string(), EntrySchema) });
type Entry = z.infer<typeof EntrySchema>;

/**
 * The response files that can hold `requestId`, from an index at `indexPath` brought up to date
 * first (only bytes appended since the last lookup are read; a file that shrank was rotated
 * away or replaced and is read again). The first lookup reads everything once; later ones read
 * only the files the id's prefix and counter point to.
 *
 *     const files = await candidateFiles("runs/platform/cache/index/responses.json", all, "7234a07d-1f");
 */
export async function candidateFiles(indexPath: string, files: readonly string[], requestId: string): Promise<string[]> {
  const text = await readFile(indexPath, "utf8").catch(() => null);
  const old = text ? IndexSchema.safeParse(parseJson(text)).data?.files ?? {} : {};
  const next: Record<string, Entry> = {};
  let changed = false;
  for (const file of files) {
    const size = (await stat(file)).size;
    const known = old[file];
    const base = known && known.indexedBytes <= size ? known : { indexedBytes: 0, ranges: {}, foreign: false };
    next[file] = base.indexedBytes === size ? base : await extend(file, base, size);
    changed ||= next[file] !== known;
  }
  // Best effort: an auditor may trace from a state directory they cannot write; the lookup still works.
  if (changed || Object.keys(old).length !== files.length) await writeFileAtomic(indexPath, JSON.stringify({ version: 1, files: next })).catch(() => undefined);
  const own = OWN_ID.exec(requestId);
  return files.filter((f) => {
    const e = next[f]!;
    if (e.foreign) return true;
    const range = own ? e.ranges[own[1]!] : undefined;
    const n = own ? parseInt(own[2]!, 36) : NaN;
    return range !== undefined && n >= range[0] && n <= range[1];
  });
}

/** Reads `file` from `entry.indexedBytes` to `size` and folds each complete line's id into a copy of the entry. */
async function extend(file: string, entry: Entry, size: number): Promise<Entry> {
  const fh = await open(file, "r");
  const bytes = Buffer.allocUnsafe(size - entry.indexedBytes);
  try {
    await fh.read(bytes, 0, bytes.length, entry.indexedBytes);
  } finally {
    await fh.close();
  }
  const ranges: Entry["ranges"] = Object.fromEntries(Object.entries(entry.ranges).map(([p, r]) => [p, [r[0], r[1]]]));
  let foreign = entry.foreign, start = 0;
  for (let nl = bytes.indexOf(10); nl !== -1; start = nl + 1, nl = bytes.indexOf(10, start)) {
    const c1 = bytes.indexOf(44, start);
    const c2 = c1 === -1 || c1 > nl ? -1 : bytes.indexOf(44, c1 + 1);
    if (c2 === -1 || c2 > nl) continue; // the header, or a line too short to hold an id
    const id = bytes.toString("latin1", c1 + 1, c2);
    if (id === "request_id") continue;
    const own = OWN_ID.exec(id);
    if (!own) { foreign = true; continue; }
    const n = parseInt(own[2]!, 36), r = ranges[own[1]!];
    if (!r) ranges[own[1]!] = [n, n];
    else { r[0] = Math.min(r[0], n); r[1] = Math.max(r[1], n); }
  }
  return { indexedBytes: entry.indexedBytes + start, ranges, foreign };
}
