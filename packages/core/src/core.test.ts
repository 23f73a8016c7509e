import { mkdtemp, mkdir, readFile, readdir, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it, vi } from "vitest";
import { z } from "zod";
import { writeDirAtomic, writeFileAtomic } from "./atomic.ts";
import { bearerTokenMatches } from "./auth.ts";
import { demographicGroup } from "./demographics.ts";
import { putBytes, putInt, putText } from "./byte-writer.ts";
import { encodeRequestLine, formatRequestLine, formatWatchLine, requestLineBound } from "./event-format.ts";
import { createLineLog } from "./line-log.ts";
import { md5Dir, md5File } from "./hash.ts";
import { createRng } from "./rng.ts";
import { parseOrThrow } from "./validate.ts";

const root = await mkdtemp(join(tmpdir(), "core-"));
afterAll(() => rm(root, { recursive: true, force: true }));
const temp = () => mkdtemp(join(root, "t-"));

describe("seeded rng", () => {
  it("repeats for a seed and differs across seeds", () => {
    const draw = (seed: number) => Array.from({ length: 5 }, createRng(seed).next);
    expect(draw(7)).toEqual(draw(7));
    expect(draw(7)).not.toEqual(draw(8));
  });

  it("draws normals with mean near 0 and variance near 1", () => {
    const rng = createRng(1);
    const xs = Array.from({ length: 20000 }, rng.normal);
    const mean = xs.reduce((a, b) => a + b) / xs.length;
    const variance = xs.reduce((a, b) => a + (b - mean) ** 2, 0) / xs.length;
    expect(Math.abs(mean)).toBeLessThan(0.03);
    expect(Math.abs(variance - 1)).toBeLessThan(0.05);
  });
});

describe("DVC-compatible hashes", () => {
  it("matches DVC's directory hash (reference computed with Python json.dumps)", async () => {
    const dir = await temp();
    await mkdir(join(dir, "sub"));
    await writeFile(join(dir, "a.txt"), "hello\n");
    await writeFile(join(dir, "sub", "b.csv"), "world\n");
    expect(await md5File(join(dir, "a.txt"))).toBe("b1946ac92492d2347c6235b4d2611184");
    expect(await md5Dir(dir)).toEqual({ md5: "96a7f27b9f0d39c7f9f7663f9a17fe82.dir", files: 2 });
  });
});

describe("atomic writes", () => {
  it("replaces a file and leaves no temp files", async () => {
    const dir = await temp();
    await writeFileAtomic(join(dir, "f.json"), "one");
    await writeFileAtomic(join(dir, "f.json"), "two");
    expect(await readFile(join(dir, "f.json"), "utf8")).toBe("two");
    expect(await readdir(dir)).toEqual(["f.json"]);
  });

  it("keeps the old directory when filling the new one fails", async () => {
    const root = await temp();
    const target = join(root, "data");
    await writeDirAtomic(target, (tmp) => writeFile(join(tmp, "x"), "old"), { kind: "dataset" });
    await expect(writeDirAtomic(target, async () => { throw new Error("disk full"); }, { kind: "dataset" })).rejects.toThrow("disk full");
    expect(await readFile(join(target, "x"), "utf8")).toBe("old");
    expect(await readdir(root)).toEqual(["data"]);
  });
});

describe("validation errors", () => {
  it("names the input and each wrong field", () => {
    const schema = z.object({ port: z.number().int(), host: z.string() });
    expect(() => parseOrThrow(schema, { port: 1.5 }, "router.json")).toThrow(/^router\.json: port: .*; host: /);
  });
});

describe("stream line formats", () => {
  it("writes the brief's watch and request lines", () => {
    const t = Date.UTC(2022, 1, 8, 18, 6, 56, 145);
    expect(formatWatchLine(t, 2, "the+godfather+1972", 13)).toBe("2022-02-08T18:06:56.145000,2,GET /data/m/the+godfather+1972/13.mpg");
    expect(formatRequestLine(t, 2, "api-1", 200, ["a+1", "b+2"], 12.4)).toBe(
      "2022-02-08T18:06:56.145000,2,recommendation request api-1, status 200, result: a+1, b+2, 12 ms",
    );
  });

  it("encodes the request line into a buffer exactly as it formats it, ids spaced on 200 only", () => {
    const t = Date.UTC(2022, 1, 8, 18, 6, 56, 145);
    const cases: [number, string, string | string[]][] = [
      [200, "a+1,b+2,c+3", ["a+1", "b+2", "c+3"]],
      [200, "only+1", ["only+1"]],
      [200, "", ""],
      [503, "busy, try later", "busy, try later"],
      [200, "amélie+2001,the+ring+2002", ["amélie+2001", "the+ring+2002"]],
    ];
    for (const [status, result, expected] of cases) {
      // The result as text and as the UTF-8 bytes an upstream answered: the same line either way.
      for (const given of [result, Buffer.from(result, "utf8")]) {
        const buf = Buffer.alloc(requestLineBound("42", "api-1", given) + 8, "#");
        const end = encodeRequestLine(buf, 3, t, "42", "api-1", status, given, 7.6);
        expect(buf.toString("utf8", 3, end)).toBe(formatRequestLine(t, "42", "api-1", status, expected, 7.6));
        expect(buf.toString("latin1", 0, 3)).toBe("###");
        expect(buf.toString("latin1", end, end + 1), "nothing written past the returned end").toBe("#");
      }
    }
  });

  it("writes user ids and server names that are not ASCII as UTF-8", () => {
    const t = Date.UTC(2022, 1, 8, 18, 6, 56, 145);
    const buf = Buffer.alloc(requestLineBound("ü-1", "srv-é", "a,b"));
    const end = encodeRequestLine(buf, 0, t, "ü-1", "srv-é", 200, "a,b", 0.4);
    expect(buf.toString("utf8", 0, end)).toBe(formatRequestLine(t, "ü-1", "srv-é", 200, ["a", "b"], 0.4));
  });
});

describe("byte writers", () => {
  it("put text, integers and bytes where asked and return where they end", () => {
    const buf = Buffer.alloc(40, "#");
    let at = putText(buf, 1, "ab");
    at = putInt(buf, at, 0);
    at = putInt(buf, at, 1203);
    at = putBytes(buf, at, Buffer.from("|"));
    at = putText(buf, at, "é€");
    at = putInt(buf, at, -2.5);
    expect(buf.toString("utf8", 0, at + 1)).toBe("#ab01203|é€-2.5#");
  });
});

describe("line log", () => {
  it("appends written and encoded lines in order, with the CSV header once", async () => {
    const dir = await temp();
    const path = join(dir, "log.csv");
    const log = createLineLog({ path, flushMs: 60_000, header: "a,b" });
    log.write("1,x");
    log.writeWith(16, (buf, at, text) => at + buf.write(text, at, "utf8"), "2,é");
    await log.flush();
    log.write("3,z");
    await log.close();
    expect(await readFile(path, "utf8")).toBe("a,b\n1,x\n2,é\n3,z\n");
    const again = createLineLog({ path, flushMs: 60_000, header: "a,b" });
    again.write("4,w");
    await again.close();
    expect((await readFile(path, "utf8")).split("\n").filter((l) => l === "a,b")).toHaveLength(1);
  });

  it("counts lines past its buffer limit as dropped instead of growing", async () => {
    const log = createLineLog({ path: join(await temp(), "log"), flushMs: 60_000, maxBuffered: 2 });
    for (let i = 0; i < 5; i++) log.write(`line ${i}`);
    expect(log.dropped()).toBe(3);
    await log.close();
  });

  it("appends a chunk as soon as it is full, long before the flush interval, and keeps every line in order", async () => {
    const path = join(await temp(), "busy.log");
    const log = createLineLog({ path, flushMs: 60_000, maxBuffered: 1e6 });
    const line = (i: number) => `${String(i).padStart(8, "0")},${"x".repeat(90)}`;
    // About 1.5 MB: several chunks' worth.
    for (let i = 0; i < 15_000; i++) log.write(line(i));
    // Half the flush interval: time enough for a loaded machine, and the chunks cannot be the flush's.
    await vi.waitUntil(async () => (await stat(path).then((s) => s.size, () => 0)) > 1_000_000, { timeout: 30_000, interval: 10 });
    await log.close();
    const lines = (await readFile(path, "utf8")).split("\n");
    expect(lines.pop()).toBe("");
    expect(lines).toHaveLength(15_000);
    expect(lines.every((l, i) => l === line(i))).toBe(true);
  });

  it("counts lines whose append failed as dropped, and bounds the lines waiting for the file", async () => {
    const dir = await temp();
    // A directory where the file should be: every append fails.
    await mkdir(join(dir, "log"));
    const errors: string[] = [];
    const log = createLineLog({ path: join(dir, "log"), flushMs: 60_000, maxBuffered: 3, onError: (e) => errors.push(e.message) });
    log.write("a");
    log.write("b");
    await log.flush();
    expect(log.dropped()).toBe(2);
    expect(errors).toHaveLength(1);
    for (let i = 0; i < 5; i++) log.write(`c${i}`);
    expect(log.dropped(), "past maxBuffered lines not yet in the file").toBe(4);
    await log.close();
    expect(log.dropped()).toBe(7);
  });
});

describe("demographic groups", () => {
  it("bands age and normalises gender, null without both", () => {
    expect(demographicGroup({ age: 33, gender: "m" })).toBe("M:25-34");
    expect(demographicGroup({ age: 17, gender: "Female" })).toBe("F:<18");
    expect(demographicGroup({ age: 40 })).toBeNull();
  });
});

describe("admin token check", () => {
  it("accepts only 'Bearer <the token>' and nothing when no token is configured", () => {
    const token = "0123456789abcdef";
    expect(bearerTokenMatches(`Bearer ${token}`, token)).toBe(true);
    expect(bearerTokenMatches(`Bearer ${token}x`, token)).toBe(false);
    expect(bearerTokenMatches(token, token)).toBe(false);
    expect(bearerTokenMatches(undefined, token)).toBe(false);
    expect(bearerTokenMatches("Bearer ", undefined)).toBe(false);
  });
});
