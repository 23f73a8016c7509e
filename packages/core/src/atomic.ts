import { mkdir, rename, rm, open } from "node:fs/promises";
import { dirname, basename, join } from "node:path";
import { randomBytes } from "node:crypto";

function tempSibling(path: string): string {
  return join(dirname(path), `.${basename(path)}.tmp-${process.pid}-${randomBytes(4).toString("hex")}`);
}

/**
 * Writes a file so readers see either the old or the new content, never a torn one:
 * write a sibling temp file, fsync it, rename over the target.
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = tempSibling(path);
  const fh = await open(tmp, "w");
  try {
    await fh.writeFile(data);
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, path);
}

/**
 * Builds a directory in a temp sibling through `fill`, then renames it into place, replacing
 * any previous one. A crash mid-way leaves only a `.name.tmp-*` folder, never a half directory.
 */
export async function writeDirAtomic(path: string, fill: (tmpDir: string) => Promise<void>): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = tempSibling(path);
  await mkdir(tmp, { recursive: true });
  try {
    await fill(tmp);
    const old = tempSibling(path);
    // rename() cannot replace a non-empty directory: move the old one aside first.
    const hadOld = await rename(path, old).then(() => true, () => false);
    await rename(tmp, path);
    if (hadOld) await rm(old, { recursive: true, force: true });
  } catch (err) {
    await rm(tmp, { recursive: true, force: true });
    throw err;
  }
}

