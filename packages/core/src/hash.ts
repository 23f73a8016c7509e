import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { readdir } from "node:fs/promises";
import { join, relative, sep } from "node:path";
import { OUTPUT_MARKER } from "./output.ts";

/** md5 of a file's bytes, streamed: the same value DVC stores for a file. */
export async function md5File(path: string): Promise<string> {
  const hash = createHash("md5");
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

/**
 * The data files below `dir` (recursively, regular files only), without recsys's ownership
 * marker: exactly the files md5Dir hashes, for callers that store or re-check them one by one.
 */
export async function listDataFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    // The ownership marker is not data; the repo's .dvcignore keeps DVC's hash the same.
    if (entry.name === OUTPUT_MARKER) continue;
    const full = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await listDataFiles(full)));
    else if (entry.isFile()) out.push(full);
  }
  return out;
}

/**
 * DVC's directory hash: md5 of the JSON list of `{"md5", "relpath"}` entries sorted by relpath
 * (by code point, as Python sorts), serialised as Python's `json.dumps` does with its defaults
 * (`", "` and `": "` separators, non-ASCII escaped as `\uXXXX`), plus `.dir`.
 *
 *     await md5Dir("data/prepared") // => "3f1e...a9.dir"
 */
export async function md5Dir(dir: string): Promise<{ md5: string; files: number }> {
  const files = await listDataFiles(dir);
  const entries = await Promise.all(
    files.map(async (f) => ({ md5: await md5File(f), relpath: relative(dir, f).split(sep).join("/") })),
  );
  return { md5: createHash("md5").update(dirListing(entries)).digest("hex") + ".dir", files: entries.length };
}

/**
 * The bytes DVC hashes for a directory and stores as its `.dir` object: the entries sorted by
 * relpath (by code point), as Python's `json.dumps` writes them. Its md5 plus `.dir` is md5Dir's.
 *
 *     dirListing([{ md5: "d41d...", relpath: "a.txt" }]) // '[{"md5": "d41d...", "relpath": "a.txt"}]'
 */
export function dirListing(entries: ReadonlyArray<{ md5: string; relpath: string }>): string {
  const sorted = [...entries].sort((a, b) => byCodePoint(a.relpath, b.relpath));
  return "[" + sorted.map((e) => `{"md5": ${pythonJsonString(e.md5)}, "relpath": ${pythonJsonString(e.relpath)}}`).join(", ") + "]";
}

/**
 * A string as Python's `json.dumps` writes it with `ensure_ascii` (its default): JSON's own
 * escapes, then every non-ASCII UTF-16 unit as `\uXXXX` in lower-case hex (astral characters as
 * their surrogate pair), which is what DVC hashes.
 */
function pythonJsonString(text: string): string {
  return JSON.stringify(text).replace(/[\u0080-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

function byCodePoint(a: string, b: string): number {
  const x = [...a];
  const y = [...b];
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const d = x[i].codePointAt(0)! - y[i].codePointAt(0)!;
    if (d !== 0) return d;
  }
  return x.length - y.length;
}
