import { mkdir, mkdtemp, readFile, readdir, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { md5Dir, md5File } from "@recsys/core";
import { createStore } from "./store.ts";

const temps: string[] = [];
afterEach(async () => {
  await Promise.all(temps.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

async function fixture(): Promise<{ root: string; src: string }> {
  const base = await mkdtemp(join(tmpdir(), "prov-store-"));
  temps.push(base);
  const src = join(base, "model");
  await mkdir(join(src, "sub"), { recursive: true });
  await writeFile(join(src, "model.json"), '{"a": 1}\n');
  await writeFile(join(src, "sub", "t.f32"), Buffer.from([1, 2, 3, 4]));
  await writeFile(join(src, "café.txt"), "same bytes");
  await writeFile(join(src, "copy.txt"), "same bytes");
  return { root: join(base, "cache"), src };
}

describe("content-addressed store", () => {
  it("puts a directory under DVC's layout with md5Dir's key, and restores it byte for byte", async () => {
    const { root, src } = await fixture();
    const store = createStore(root);
    const key = await store.put(src);
    expect(key).toBe((await md5Dir(src)).md5);
    // DVC's cache layout: files/md5/<2 hex>/<30 hex>[.dir]; the .dir object hashes to its own name.
    const listingPath = join(root, "files", "md5", key.slice(0, 2), key.slice(2));
    expect(await md5File(listingPath)).toBe(key.replace(/\.dir$/, ""));
    expect(JSON.parse(await readFile(listingPath, "utf8"))).toContainEqual({ md5: await md5File(join(src, "sub", "t.f32")), relpath: "sub/t.f32" });
    // Two files with equal bytes are one object.
    const objects = (await readdir(join(root, "files", "md5"), { recursive: true, withFileTypes: true })).filter((e) => e.isFile());
    expect(objects).toHaveLength(4);
    expect(await store.has(key)).toBe(true);

    const dest = join(root, "..", "restored");
    await store.restore(key, dest, "model");
    expect((await md5Dir(dest)).md5).toBe(key);
    expect(await readFile(join(dest, "café.txt"), "utf8")).toBe("same bytes");
    expect((await stat(join(dest, "model.json"))).mode & 0o200).toBeTruthy();
  });

  it("is idempotent and leaves no temp files", async () => {
    const { root, src } = await fixture();
    const store = createStore(root);
    const [a, b] = await Promise.all([store.put(src), store.put(src)]);
    expect(a).toBe(b);
    expect(await store.put(src)).toBe(a);
    expect(await readdir(join(root, "tmp"))).toEqual([]);
    expect(await store.put(join(src, "copy.txt"))).toBe(await md5File(join(src, "copy.txt")));
  });

  it("reports a directory with a missing object as not stored, and refuses to restore over a folder", async () => {
    const { root, src } = await fixture();
    const store = createStore(root);
    const key = await store.put(src);
    await expect(store.restore(key, src, "model")).rejects.toMatchObject({ code: "PROVENANCE_BAD_INPUT", exitCode: 2 });
    await rm(store.objectPath(await md5File(join(src, "model.json"))), { force: true });
    expect(await store.has(key)).toBe(false);
    expect(await store.has("0".repeat(32))).toBe(false);
  });

  it("keeps refs from the platform's own hashes to store keys", async () => {
    const { root, src } = await fixture();
    const store = createStore(root);
    const key = await store.put(src);
    expect(await store.ref("models", "abc123")).toBeNull();
    await store.setRef("models", "abc123", { key, source: src });
    expect(await store.ref("models", "abc123")).toEqual({ key, source: src });
  });
});
