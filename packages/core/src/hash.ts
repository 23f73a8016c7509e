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

async function listFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    // The ownership marker is not data; the repo's .dvcignore keeps DVC's hash the same.
    if (entry.name === OUTPUT_MARKER) continue;
    const full = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await listFiles(full)));
    else if (entry.isFile()) out.push(full);
  }
  return out;
}

/**
 * DVC's directory hash: md5 of the JSON list of `{"md5", "relpath"}` entries sorted by
 * relpath, serialised with Python `json.dumps` spacing (`", "` and `": "`), plus `.dir`.
 *
 *     await md5Dir("data/prepared") // => "3f1e...a9.dir"
 */
export async function md5Dir(dir: string): Promise<{ md5: string; files: number }> {
  const files = await listFiles(dir);
  const entries = await Promise.all(
    files.map(async (f) => ({ md5: await md5File(f), relpath: relative(dir, f).split(sep).join("/") })),
  );
  entries.sort((a, b) => (a.relpath < b.relpath ? -1 : a.relpath > b.relpath ? 1 : 0));
  const json = "[" + entries.map((e) => `{"md5": ${JSON.stringify(e.md5)}, "relpath": ${JSON.stringify(e.relpath)}}`).join(", ") + "]";
  return { md5: createHash("md5").update(json).digest("hex") + ".dir", files: entries.length };
}
