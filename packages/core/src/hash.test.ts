import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { md5Dir, md5File } from "./hash.ts";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "core-hash-"));
  await mkdir(join(dir, "sub"));
  await writeFile(join(dir, "a.txt"), "a\n");
  await writeFile(join(dir, "café.txt"), "é");
  await writeFile(join(dir, "sub", "b.csv"), "hello");
  await writeFile(join(dir, "sub", "日本.txt"), "");
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe("DVC's hashes", () => {
  it("hashes a file as the md5 of its bytes", async () => {
    expect(await md5File(join(dir, "sub", "b.csv"))).toBe("5d41402abc4b2a76b9719d911017c592"); // md5("hello")
    expect(await md5File(join(dir, "sub", "日本.txt"))).toBe("d41d8cd98f00b204e9800998ecf8427e"); // md5("")
  });

  it("hashes a nested directory with non-ASCII names exactly as DVC does", async () => {
    // The vector, worked out with Python's own json.dumps(entries, sort_keys=True) and hashlib:
    // [{"md5": "60b725f10c9c85c70d97880dfe8191b3", "relpath": "a.txt"},
    //  {"md5": "66ddcd97cfdeabb2f6fb8a999b4bc76f", "relpath": "caf\u00e9.txt"},
    //  {"md5": "5d41402abc4b2a76b9719d911017c592", "relpath": "sub/b.csv"},
    //  {"md5": "d41d8cd98f00b204e9800998ecf8427e", "relpath": "sub/\u65e5\u672c.txt"}]
    // (one line, ", " between entries) -> md5 971fe087696f3cc875375ab1268a1ae1.
    expect(await md5Dir(dir)).toEqual({ md5: "971fe087696f3cc875375ab1268a1ae1.dir", files: 4 });
  });
});
