import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { Readable } from "node:stream";
import { describe, expect, it } from "vitest";
import { createRng } from "@recsys/core";
import { ingestEvents, rejectShareWarning } from "../src/index.ts";
import { readLines, tempDir } from "./helpers.ts";

const good = (i: number) => `2022-02-08T18:06:${String(i % 60).padStart(2, "0")},1,GET /data/m/x+1999/${i}.mpg`;
const bad = (i: number) => `2022-02-08T18:06:00,1,GET /data/m/x+1999/${2000 + i}.mpg`; // minute past 1439: bad_minute

/** `nGood` good and `nBad` rejected lines, as one stream. */
const mixed = (nGood: number, nBad: number) =>
  Readable.from([[...Array.from({ length: nGood }, (_, i) => good(i)), ...Array.from({ length: nBad }, (_, i) => bad(i))].join("\n") + "\n"]);

async function out(): Promise<string> {
  return join(await tempDir(), "ds");
}

describe("ingest refuses input that cannot be right", () => {
  it("exits 2 on an empty file and keeps an earlier dataset", async () => {
    const dir = await tempDir();
    const empty = join(dir, "empty.log");
    await writeFile(empty, "");
    const outDir = join(dir, "ds");
    await ingestEvents({ input: mixed(3, 0), outDir });
    const before = await readFile(join(outDir, "manifest.json"), "utf8");
    const err = await ingestEvents({ input: empty, outDir }).catch((e) => e);
    expect(err).toMatchObject({ code: "RECSYS_INGEST_NOTHING_ACCEPTED", exitCode: 2 });
    expect(err.message).toBe(`${empty}: no line was accepted (the input is empty); check that it is the event stream (line formats: see packages/ingest/README.md)`);
    expect(await readFile(join(outDir, "manifest.json"), "utf8")).toBe(before);
  });

  it("exits 2 on 100 KB of random bytes", async () => {
    const rng = createRng(17);
    const bytes = Buffer.from(Array.from({ length: 100_000 }, () => rng.int(256)));
    const err = await ingestEvents({ input: Readable.from([bytes]), outDir: await out() }).catch((e) => e);
    expect(err).toMatchObject({ code: "RECSYS_INGEST_NOTHING_ACCEPTED", exitCode: 2 });
    expect(err.message).toMatch(/^the event stream: no line was accepted \(all \d+ non-blank lines rejected: /);
  });

  it("exits 2 on one 50 MB line, read in chunks without holding it", async () => {
    const chunk = "x".repeat(1 << 16);
    const input = Readable.from((function* () { for (let i = 0; i < 800; i++) yield chunk; })());
    const err = await ingestEvents({ input, outDir: await out(), inputName: "stdin" }).catch((e) => e);
    expect(err).toMatchObject({ code: "RECSYS_INGEST_NOTHING_ACCEPTED", exitCode: 2 });
    expect(err.message).toContain("stdin: no line was accepted (all 1 non-blank lines rejected: too_long 1)");
  });

  it("refuses a rejected share above maxRejectShare (default 0.5) and records share and limits in quality.json", async () => {
    const err = await ingestEvents({ input: mixed(4, 6), outDir: await out() }).catch((e) => e);
    expect(err).toMatchObject({ code: "RECSYS_INGEST_TOO_MANY_REJECTS", exitCode: 2 });
    expect(err.message).toBe("the event stream: 60.0% of lines rejected (6 of 10: bad_minute 6), above --max-reject-share 0.5; check the input, or raise --max-reject-share to keep such a dataset");
    const outDir = await out();
    const s = await ingestEvents({ input: mixed(4, 6), outDir, maxRejectShare: 0.6 });
    expect(s.quality.rejectShare).toEqual({ value: 0.6, warnAbove: 0.05, failAbove: 0.6 });
    expect(JSON.parse(await readFile(join(outDir, "quality.json"), "utf8")).rejectShare).toEqual(s.quality.rejectShare);
    expect(await readFile(join(outDir, "quality.txt"), "utf8")).toContain("rejected share: 60% (warn above 5%, refuse above 60%)");
  });

  it("warns, and keeps the dataset, when the rejected share is notable but allowed", async () => {
    const notable = await ingestEvents({ input: mixed(90, 10), outDir: await out() });
    expect(rejectShareWarning(notable.quality)).toBe("warning: 10.0% of lines rejected (10 of 100: bad_minute 10), above 5%");
    const usual = await ingestEvents({ input: mixed(99, 1), outDir: await out() });
    expect(rejectShareWarning(usual.quality)).toBeNull();
  });

  it.each([1.5, -0.1, NaN])("refuses maxRejectShare %s before reading anything", async (share) => {
    await expect(ingestEvents({ input: mixed(1, 0), outDir: await out(), maxRejectShare: share }))
      .rejects.toMatchObject({ code: "RECSYS_USAGE", exitCode: 2 });
  });
});

describe("a UTF-8 byte order mark", () => {
  const BOM = Buffer.from([0xef, 0xbb, 0xbf]);

  it("at the start of the stream is stripped, even when split across chunks", async () => {
    const text = Buffer.from([good(1), good(2)].join("\n") + "\n");
    const whole = await ingestEvents({ input: Readable.from([Buffer.concat([BOM, text])]), outDir: await out() });
    expect(whole.quality.lines).toMatchObject({ accepted: 2, rejected: 0 });
    const split = await ingestEvents({ input: Readable.from([BOM.subarray(0, 1), BOM.subarray(1), text]), outDir: await out() });
    expect(split.quality.rejects.bad_time).toBe(0);
    expect(split.dataHash).toBe(whole.dataHash);
  });

  it("at the start of a users or movies file is stripped", async () => {
    const dir = await tempDir();
    await mkdir(join(dir, "side"));
    const users = join(dir, "side", "users.jsonl"), movies = join(dir, "side", "movies.json");
    await writeFile(users, Buffer.concat([BOM, Buffer.from('{"user_id": 1, "age": 30}\n')]));
    await writeFile(movies, Buffer.concat([BOM, Buffer.from('[{"id": "x+1999", "title": "X"}]')]));
    const outDir = await out();
    const s = await ingestEvents({ input: mixed(2, 0), usersFile: users, moviesFile: movies, outDir });
    expect(s.quality.users).toMatchObject({ withSideInfo: 1, unknown: { ids: 0, lines: 0 } });
    expect(s.quality.movies).toMatchObject({ withSideInfo: 1, unknown: { ids: 0, lines: 0 } });
    expect(await readLines(join(outDir, "users.jsonl"))).toEqual(['{"user_id":1,"age":30}']);
  });
});
