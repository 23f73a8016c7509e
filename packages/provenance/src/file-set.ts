import { stat } from "node:fs/promises";
import { relative, sep } from "node:path";
import { listDataFiles } from "@recsys/core";
import type { Store } from "./store.ts";

/**
 * The files of a model or dataset wherever they are now: a directory on disk, or a stored
 * directory read object by object (no copy), so the same checks run on both.
 */
export interface FileSet {
  /** Where the files were read from, as a user reads it: a path, or `store:<key>`. */
  where: string;
  /** Relative path ("/"-separated) -> file to read. */
  files: Map<string, string>;
}

export async function dirFileSet(dir: string): Promise<FileSet> {
  const files = new Map<string, string>();
  for (const full of await listDataFiles(dir)) files.set(relative(dir, full).split(sep).join("/"), full);
  return { where: dir, files };
}

export async function storeFileSet(store: Store, key: string): Promise<FileSet> {
  const files = new Map<string, string>();
  for (const e of await store.listing(key)) files.set(e.relpath, store.objectPath(e.md5));
  return { where: `store:${key}`, files };
}

/**
 * The files of something that may be gone from disk: the directory while it exists, else the
 * store's copy (found by its ref), else null.
 */
export async function locate(store: Store, kind: "models" | "data", id: string, dir: string | null): Promise<FileSet | null> {
  if (dir && (await isDir(dir))) return dirFileSet(dir);
  const ref = await store.ref(kind, id);
  if (ref?.source && (await isDir(ref.source))) return dirFileSet(ref.source);
  if (ref && (await store.has(ref.key))) return storeFileSet(store, ref.key);
  return null;
}

export const isDir = (path: string): Promise<boolean> => stat(path).then((s) => s.isDirectory(), () => false);
export const isFile = (path: string): Promise<boolean> => stat(path).then((s) => s.isFile(), () => false);
