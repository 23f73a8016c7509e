import { randomBytes } from "node:crypto";
import { chmod, copyFile, mkdir, readdir, readFile, rename, rm, stat } from "node:fs/promises";
import { dirname, join, relative, sep } from "node:path";
import { z } from "zod";
import { dirListing, listDataFiles, md5File, writeDirAtomic, writeFileAtomic } from "@recsys/core";
import { badProvenanceInput, corruptStore } from "./errors.ts";
import { parseJson } from "./json.ts";

/** One file of a stored directory, as DVC lists it in the `.dir` object. */
export interface DirEntry { md5: string; relpath: string }

const KEY = /^[0-9a-f]{32}(\.dir)?$/;
const ListingSchema = z.array(z.object({
  md5: z.string().regex(/^[0-9a-f]{32}$/),
  // A listing names files inside the directory only: no absolute paths, no "..".
  relpath: z.string().min(1).refine((p) => !p.startsWith("/") && !p.split("/").includes(".."), "relpath must stay inside the directory"),
}));

export interface StoreRef { key: string; source: string | null }
const RefSchema = z.object({ key: z.string().regex(KEY), source: z.string().nullable() });

/** What kind of thing a ref names: a model by its modelHash, a dataset by its dataHash. */
export type RefKind = "models" | "data";

export interface Store {
  readonly root: string;
  /** Puts a file or a directory (recursively); returns its DVC md5 (`<md5>` or `<md5>.dir`). Idempotent. */
  put(path: string): Promise<string>;
  /** True when the object is stored; for a directory, its listing and every file in it. */
  has(key: string): Promise<boolean>;
  /** The `.dir` listing of a stored directory. */
  listing(key: string): Promise<DirEntry[]>;
  /** Where an object lives: `ROOT/files/md5/<2 hex>/<rest>`. */
  objectPath(key: string): string;
  /** Materialises a stored directory into `dest`, which must not exist yet; every byte is checked. */
  /** Materialises a stored directory as a new `kind` output folder (marked as recsys outputs are). */
  restore(key: string, dest: string, kind: "model" | "dataset"): Promise<void>;
  /**
   * Names an object by an identity that is not its md5 (a model's sha256 modelHash, a dataset's
   * dataHash), with the directory it was put from, which a trace prefers while it still exists.
   */
  setRef(kind: RefKind, id: string, ref: StoreRef): Promise<void>;
  ref(kind: RefKind, id: string): Promise<StoreRef | null>;
  /** Every stored object's key with its size in bytes (for gc). */
  objects(): Promise<Array<{ key: string; bytes: number; mtimeMs: number }>>;
  /** Removes one object (a `.dir` listing alone, not the files it names). */
  remove(key: string): Promise<void>;
  /** The ids that have a ref of this kind. */
  refIds(kind: RefKind): Promise<string[]>;
  removeRef(kind: RefKind, id: string): Promise<void>;
}

/**
 * A content-addressed store laid out as DVC's cache (`files/md5/ab/cdef...`, a directory as a
 * `.dir` JSON listing of `{md5, relpath}` whose own md5 is core's md5Dir), so `dvc` pointed at
 * it as a cache finds the same objects. Objects are written to a temp file in the store, hashed
 * there (the source may change under us) and renamed into place: a reader never sees half an
 * object. They are made read-only, as DVC does. `refs/<kind>/<id>` maps the platform's own
 * identities (modelHash, dataHash) to md5 keys.
 *
 *     const store = createStore("runs/platform/cache");
 *     const key = await store.put("models/m1"); // "3f1e...a9.dir"
 *     await store.restore(key, "/tmp/m1-again");
 */
export function createStore(root: string): Store {
  const objectPath = (key: string): string => {
    if (!KEY.test(key)) throw badProvenanceInput(key, "not a store key (32 hex digits, optionally .dir)");
    return join(root, "files", "md5", key.slice(0, 2), key.slice(2));
  };
  const tempPath = () => join(root, "tmp", `${process.pid}-${randomBytes(6).toString("hex")}`);
  const exists = (path: string) => stat(path).then(() => true, () => false);

  /** Moves a finished temp file to its object path, or drops it when the object is already there. */
  async function commit(tmp: string, key: string): Promise<string> {
    const target = objectPath(key);
    if (await exists(target)) {
      await rm(tmp, { force: true });
      return key;
    }
    await mkdir(dirname(target), { recursive: true });
    await chmod(tmp, 0o444);
    await rename(tmp, target);
    return key;
  }

  async function putFile(path: string): Promise<string> {
    const tmp = tempPath();
    await mkdir(dirname(tmp), { recursive: true });
    try {
      await copyFile(path, tmp);
      return await commit(tmp, await md5File(tmp));
    } catch (err) {
      await rm(tmp, { force: true });
      throw err;
    }
  }

  async function putDir(dir: string): Promise<string> {
    const entries: DirEntry[] = [];
    for (const file of await listDataFiles(dir)) entries.push({ md5: await putFile(file), relpath: relative(dir, file).split(sep).join("/") });
    const tmp = tempPath();
    await writeFileAtomic(tmp, dirListing(entries));
    return commit(tmp, (await md5File(tmp)) + ".dir");
  }

  async function listing(key: string): Promise<DirEntry[]> {
    if (!key.endsWith(".dir")) throw badProvenanceInput(key, "not a directory key (it ends in .dir)");
    const path = objectPath(key);
    const text = await readFile(path, "utf8").catch(() => null);
    if (text === null) throw badProvenanceInput(key, `not in the store ${root}`);
    const parsed = ListingSchema.safeParse(parseJson(text));
    if (!parsed.success) throw corruptStore(path, "not a valid .dir listing");
    return parsed.data;
  }

  const refPath = (kind: RefKind, id: string) => {
    if (!/^[\w.-]{1,128}$/.test(id)) throw badProvenanceInput(id, "not a hash-like identity");
    return join(root, "refs", kind, id);
  };

  return {
    root,
    objectPath,
    listing,
    async put(path) {
      const info = await stat(path).catch(() => null);
      if (!info) throw badProvenanceInput(path, "no such file or directory to put in the store");
      return info.isDirectory() ? putDir(path) : putFile(path);
    },
    async has(key) {
      if (!(await exists(objectPath(key)))) return false;
      if (!key.endsWith(".dir")) return true;
      for (const e of await listing(key)) if (!(await exists(objectPath(e.md5)))) return false;
      return true;
    },
    async restore(key, dest, kind) {
      if (await exists(dest)) throw badProvenanceInput(dest, "already exists; restore into a new folder");
      const entries = await listing(key);
      await writeDirAtomic(dest, async (tmp) => {
        for (const e of entries) {
          const target = join(tmp, ...e.relpath.split("/"));
          await mkdir(dirname(target), { recursive: true });
          await copyFile(objectPath(e.md5), target);
          await chmod(target, 0o644);
          if ((await md5File(target)) !== e.md5) throw corruptStore(objectPath(e.md5), "its bytes no longer hash to its name");
        }
      }, { kind });
    },
    async setRef(kind, id, ref) {
      await writeFileAtomic(refPath(kind, id), JSON.stringify(RefSchema.parse(ref)) + "\n");
    },
    async objects() {
      const out: Array<{ key: string; bytes: number; mtimeMs: number }> = [];
      const top = join(root, "files", "md5");
      for (const prefix of await readdir(top).catch(() => [] as string[])) {
        for (const rest of await readdir(join(top, prefix)).catch(() => [] as string[])) {
          const key = prefix + rest;
          if (!KEY.test(key)) continue;
          const info = await stat(join(top, prefix, rest));
          out.push({ key, bytes: info.size, mtimeMs: info.mtimeMs });
        }
      }
      return out;
    },
    async remove(key) {
      await rm(objectPath(key), { force: true });
    },
    async refIds(kind) {
      // Temp files of an atomic write start with a dot; they are not refs.
      return (await readdir(join(root, "refs", kind)).catch(() => [] as string[])).filter((id) => !id.startsWith("."));
    },
    async removeRef(kind, id) {
      await rm(refPath(kind, id), { force: true });
    },
    async ref(kind, id) {
      const path = refPath(kind, id);
      const text = await readFile(path, "utf8").catch(() => null);
      if (text === null) return null;
      const parsed = RefSchema.safeParse(parseJson(text));
      if (!parsed.success) throw corruptStore(path, "not a valid ref");
      return parsed.data;
    },
  };
}
