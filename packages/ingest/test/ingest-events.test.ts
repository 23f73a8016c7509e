import { createReadStream } from "node:fs";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { Readable } from "node:stream";
import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { readManifest, readMovies, readRatings, readUsers, readWatches } from "@recsys/core";
import { ingestEvents, parseTelemetryLine } from "../src/index.ts";
import { fixture, readLines, tempDir } from "./helpers.ts";

const sideFiles = { usersFile: fixture("users.jsonl"), moviesFile: fixture("movies.json") };

async function ingestFixture(extra: Partial<Parameters<typeof ingestEvents>[0]> = {}) {
  const outDir = join(await tempDir(), "ds");
  const summary = await ingestEvents({ input: fixture("events.log"), outDir, ...sideFiles, ...extra });
  return { outDir, summary };
}

describe("ingestEvents", () => {
  it("writes every reject with its line number and reason code", async () => {
    const { outDir, summary } = await ingestFixture();
    const rejects = (await readLines(join(outDir, "rejects.csv"))).map((l) => l.split(",").slice(0, 2).join(" "));
    expect(rejects).toEqual([
      "line_no reason", "11 duplicate", "13 bad_time", "14 bad_user_id", "15 bad_movie_id", "16 unknown_kind", "17 bad_minute",
      "18 rating_out_of_range", "19 bad_rating", "20 bad_request", "21 truncated", "22 truncated",
    ]);
    expect(summary.quality.lines).toEqual({ total: 24, accepted: 12, rejected: 11, blank: 1 });
    expect(summary.quality.rejects.truncated).toBe(2);
  });

  it("reads the stream and both side files with CRLF line endings exactly as with LF", async () => {
    const dir = await tempDir();
    const crlf = async (path: string) => {
      const out = join(dir, path.split("/").pop()!);
      await writeFile(out, (await readFile(path, "utf8")).replaceAll("\n", "\r\n"));
      return out;
    };
    const lf = await ingestFixture();
    const { outDir } = await ingestFixture({ input: await crlf(fixture("events.log")), usersFile: await crlf(sideFiles.usersFile), moviesFile: await crlf(sideFiles.moviesFile) });
    expect(await readRatings(outDir)).toEqual(await readRatings(lf.outDir));
    expect(await readUsers(outDir)).toEqual(await readUsers(lf.outDir));
    expect(await readMovies(outDir)).toEqual(await readMovies(lf.outDir));
    expect((await readManifest(outDir)).dataHash).toBe((await readManifest(lf.outDir)).dataHash);
  });

  it("rejects half stars as off the stream's scale and records that scale (1..5 step 1) in the manifest", async () => {
    const input = Readable.from(["2022-02-08T18:06:56,7,GET /rate/the+godfather+1972=3.5\n", "2022-02-08T18:06:57,7,GET /rate/toy+story+1995=4.0\n"]);
    const { outDir, summary } = await ingestFixture({ input, maxRejectShare: 1 });
    expect(summary.quality.rejects.rating_out_of_range).toBe(1);
    expect((await readRatings(outDir)).map((r) => r.rating)).toEqual([4]);
    expect((await readManifest(outDir)).ratingScale).toEqual({ min: 1, max: 5, step: 1 });
  });

  it("keeps the latest rating per user and movie, by event time", async () => {
    const { outDir, summary } = await ingestFixture();
    const ratings = [];
    for (const r of await readRatings(outDir)) ratings.push(r);
    // user 7: =3 at 18:07:00, =5 at 18:08:00, then a skewed =1 stamped 18:07:30 that is older.
    expect(ratings).toEqual([
      { userId: 7, movieId: "the+godfather+1972", rating: 5, time: "2022-02-08T18:08:00.000000" },
      { userId: 8, movieId: "toy+story+1995", rating: 4, time: "2022-02-08T18:09:01.000000" },
    ]);
    expect(summary.quality.ratings).toMatchObject({ events: 5, kept: 2, superseded: 3 });
    expect(summary.quality.outOfOrder).toEqual({ lines: 2, maxSkewMs: 30_000 });
  });

  it("aggregates watch lines into distinct minutes per user and movie", async () => {
    const { outDir, summary } = await ingestFixture();
    const watches = [];
    for (const w of await readWatches(outDir)) watches.push(w);
    expect(watches).toEqual([
      { userId: 7, movieId: "alien+1979", minutes: 1, maxMinute: 6, firstTime: "2022-02-08T18:12:00.000000", lastTime: "2022-02-08T18:12:00.000000" },
      { userId: 7, movieId: "the+godfather+1972", minutes: 2, maxMinute: 1, firstTime: "2022-02-08T18:06:56.145104", lastTime: "2022-02-08T18:06:58.500000" },
      { userId: 10, movieId: "alien+1979", minutes: 1, maxMinute: 5, firstTime: "2022-02-08T18:11:00.000000", lastTime: "2022-02-08T18:11:00.000000" },
    ]);
    expect(summary.quality.watches).toMatchObject({ events: 5, pairs: 3, distinctMinutes: 4, repeatedMinutes: 1 });
  });

  it("counts ids missing from the side files and keeps their lines", async () => {
    const { outDir, summary } = await ingestFixture();
    expect(summary.quality.users.unknown).toEqual({ ids: 2, lines: 2 });
    expect(summary.quality.movies.unknown).toEqual({ ids: 1, lines: 2 });
    const users = await readUsers(outDir);
    expect(users.map((u) => u.user_id)).toEqual([7, 8, 9, 10, 99]);
    expect(users.find((u) => u.user_id === 9)).toEqual({ user_id: 9 });
    const movies = await readMovies(outDir);
    expect(movies.map((m) => m.id)).toEqual(["alien+1979", "the+godfather+1972", "toy+story+1995"]);
    expect(movies[1]!.genres).toEqual([{ id: 18, name: "Drama" }]);
  });

  it("rejects lines with unknown ids under strict", async () => {
    // The fixture is a catalogue of bad lines: under --strict most of it (14 of 23) is rejected.
    const { outDir, summary } = await ingestFixture({ strict: true, maxRejectShare: 1 });
    expect(summary.quality.rejects).toMatchObject({ unknown_user: 2, unknown_movie: 1 });
    const rejects = await readLines(join(outDir, "rejects.csv"));
    expect(rejects.map((l) => l.split(",").slice(0, 2).join(" ")).filter((l) => / unknown_(user|movie)$/.test(l)))
      .toEqual(["9 unknown_user", "23 unknown_user", "24 unknown_movie"]);
    expect((await readUsers(outDir)).map((u) => u.user_id)).toEqual([7, 8, 99]);
  });

  it("writes request telemetry from the stream", async () => {
    const { outDir } = await ingestFixture();
    const rows = await readLines(join(outDir, "requests.csv"));
    expect(rows.slice(1)).toEqual([
      "2022-02-08T18:09:01.000001,8,17645-team01.isri.cmu.edu:8082,200,123,the+godfather+1972|toy+story+1995,,,,,,",
      "2022-02-08T18:09:02.000000,9,17645-team01.isri.cmu.edu:8082,0,800,java.net.SocketTimeoutException: Read timed out,,,,,,",
    ]);
  });

  it("writes the same bytes and dataHash for the same input, from a file or a stream", async () => {
    const a = await ingestFixture();
    const b = await ingestFixture({ input: Readable.from(createReadStream(fixture("events.log"), { highWaterMark: 7 })) });
    expect(b.summary.dataHash).toBe(a.summary.dataHash);
    for (const f of ["ratings.csv", "watches.csv", "users.jsonl", "movies.jsonl", "requests.csv", "rejects.csv", "quality.json", "quality.txt", "manifest.json"]) {
      expect(await readFile(join(b.outDir, f), "utf8"), f).toBe(await readFile(join(a.outDir, f), "utf8"));
    }
    const manifest = await readManifest(a.outDir);
    expect(manifest).toMatchObject({ schemaVersion: 1, source: "events", dataHash: a.summary.dataHash });
    expect(manifest.counts).toMatchObject({ ratings: 2, watches: 3, users: 5, movies: 3, requests: 2, rejects: 11, lines: 24 });
    expect(Object.keys(manifest.files)).not.toContain("manifest.json");
  });

  it("detects exact duplicates only within the window", async () => {
    const line = "2022-02-08T18:06:56,1,GET /data/m/x+1999/1.mpg";
    const other = (i: number) => `2022-02-08T18:06:5${i},2,GET /data/m/x+1999/${i}.mpg`;
    const input = Readable.from([[line, other(1), line, other(2), other(3), line, ""].join("\n")]);
    const outDir = join(await tempDir(), "ds");
    const s = await ingestEvents({ input, outDir, dedupWindow: 2 });
    // The second copy is 2 lines after the first (inside the window), the third 3 lines after (outside).
    expect(s.quality.duplicates).toEqual({ lines: 1, window: 2 });
    expect((await readLines(join(outDir, "rejects.csv")))[1]).toMatch(/^3,duplicate,/);
  });

  it("rejects an over-long line without buffering it, and keeps the lines around it", async () => {
    const good = (i: number) => `2022-02-08T18:06:5${i},1,GET /data/m/x+1999/${i}.mpg`;
    const huge = "x".repeat(200_000);
    const chunks = [good(1) + "\n" + huge.slice(0, 70_000), huge.slice(70_000), huge + "\n" + good(2) + "\n", "", huge];
    const outDir = join(await tempDir(), "ds");
    const s = await ingestEvents({ input: Readable.from(chunks), outDir });
    expect(s.quality.rejects.too_long).toBe(2);
    expect(s.quality.lines).toMatchObject({ total: 4, accepted: 2 });
    const rejects = await readLines(join(outDir, "rejects.csv"));
    expect(rejects.slice(1).map((l) => l.split(",")[0])).toEqual(["2", "4"]);
    expect(rejects[1]!.length).toBeLessThan(300);
  });

  it("merges API response logs into requests.csv with provenance, rejecting bad lines with file and line", async () => {
    const { outDir, summary } = await ingestFixture({ telemetryFiles: [fixture("responses.csv")] });
    const rows = await readLines(join(outDir, "requests.csv"));
    expect(rows.slice(3)).toEqual([
      "2022-02-08T18:12:00.000000,7,,200,12.345,the+godfather+1972|toy+story+1995,r-1,stable-a,abc1234,m-hash,d-hash,1",
      '2022-02-08T18:12:01.000000,8,,503,0.5,"overloaded, retry ""later""",r-2,canary,def5678,m2,d2,',
    ]);
    const rejects = (await readLines(join(outDir, "rejects.csv"))).filter((l) => l.endsWith(",responses.csv"));
    expect(rejects.map((l) => l.split(",").slice(0, 2).join(" "))).toEqual(["4 bad_user_id", "5 truncated", "6 bad_telemetry"]);
    expect(summary.quality.requests).toMatchObject({ rows: 4, fromStream: 2, fromTelemetry: 2 });
  });

  it("reads a telemetry directory as its csv files in name order", async () => {
    const dir = await tempDir();
    const header = "time,request_id,user_id,status,latency_ms,release,commit,model_hash,data_hash,result,explore_slots";
    await writeFile(join(dir, "responses-20220209.csv"), `${header}\n2022-02-09T00:00:00,r-b,2,200,1,s,c,m,d,,\n`);
    await writeFile(join(dir, "responses-20220208.csv"), `${header}\n2022-02-08T00:00:00,r-a,1,200,1,s,c,m,d,,\n`);
    await writeFile(join(dir, "notes.txt"), "not a log");
    const outDir = join(await tempDir(), "ds");
    await ingestEvents({ input: Readable.from([]), telemetryFiles: [dir], outDir });
    expect((await readLines(join(outDir, "requests.csv"))).slice(1).map((l) => l.split(",")[6])).toEqual(["r-a", "r-b"]);
  });

  it("reads the API's rotated .csv.gz logs in a telemetry directory, the .gz only when a rotation left both", async () => {
    const dir = await tempDir();
    const header = "time,request_id,user_id,status,latency_ms,release,commit,model_hash,data_hash,result,explore_slots";
    const day8 = `${header}\n2022-02-08T00:00:00,r-a,1,200,1,s,c,m,d,,\n`;
    // Two gzip members, as the API writes a rotated log.
    await writeFile(join(dir, "responses-20220208.csv.gz"), Buffer.concat([gzipSync(day8), gzipSync("2022-02-08T00:00:01,r-b,2,200,1,s,c,m,d,,\n")]));
    await writeFile(join(dir, "responses-20220208.csv"), day8); // the plain twin, caught mid-rotation
    await writeFile(join(dir, "responses-20220209.csv"), `${header}\n2022-02-09T00:00:00,r-c,3,200,1,s,c,m,d,,\n`);
    const outDir = join(await tempDir(), "ds");
    await ingestEvents({ input: Readable.from([]), telemetryFiles: [dir], outDir });
    expect((await readLines(join(outDir, "requests.csv"))).slice(1).map((l) => l.split(",")[6])).toEqual(["r-a", "r-b", "r-c"]);

    await writeFile(join(dir, "responses-20220210.csv.gz"), "not gzip");
    await expect(ingestEvents({ input: Readable.from([]), telemetryFiles: [dir], outDir: join(await tempDir(), "ds") }))
      .rejects.toMatchObject({ code: "RECSYS_INGEST_UNREADABLE", exitCode: 2, message: expect.stringContaining("responses-20220210.csv.gz") });
  });

  it("fails with exit code 2 on an unreadable input or side file", async () => {
    const outDir = join(await tempDir(), "ds");
    await expect(ingestEvents({ input: fixture("nope.log"), outDir })).rejects.toMatchObject({ code: "RECSYS_INGEST_UNREADABLE", exitCode: 2 });
    await expect(ingestEvents({ input: fixture("events.log"), usersFile: fixture("events.log"), outDir }))
      .rejects.toMatchObject({ code: "RECSYS_INGEST_BAD_SIDE_FILE", exitCode: 2 });
    await expect(ingestEvents({ input: fixture("events.log"), telemetryFiles: [fixture("users.jsonl")], outDir }))
      .rejects.toMatchObject({ code: "RECSYS_INGEST_BAD_SIDE_FILE", exitCode: 2 });
  });
});

describe("parseTelemetryLine", () => {
  it("reads a quoted error text and the provenance columns", () => {
    expect(parseTelemetryLine('2022-02-08T18:12:01.000000,r-2,8,503,0.500,canary,def5678,m2,d2,"overloaded, retry ""later""",')).toEqual({
      time: "2022-02-08T18:12:01.000000", requestId: "r-2", userId: 8, status: 503, latencyMs: 0.5, release: "canary",
      commit: "def5678", modelHash: "m2", dataHash: "d2", result: 'overloaded, retry "later"', exploreSlots: "",
    });
  });

  it("rejects broken quotes, bad times and bad fields", () => {
    expect(parseTelemetryLine('2022-02-08T18:12:01,r,8,503,0.5,c,x,m,d,"open,')).toEqual({ reject: "truncated" });
    expect(parseTelemetryLine("2022-02-08,r,8,503,0.5,c,x,m,d,e,")).toEqual({ reject: "bad_time" });
    expect(parseTelemetryLine("2022-02-08T18:12:01,r,8,503,0.5,c,x,m,d,e,1|x")).toEqual({ reject: "bad_telemetry" });
  });
});
