import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mkdtemp, readFile, rm, writeFile, mkdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { md5Dir, md5File, readMovies, readUsers, RecsysError } from "@recsys/core";
import { createWorld, readTruth, writeSimulation, TIMEOUT_TEXT, type SimulationSummary } from "./index.ts";

const TIME = String.raw`\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?`;
const WATCH = new RegExp(String.raw`^(${TIME}),(\d+),GET /data/m/([^\s,/]+)/(\d+)\.mpg$`);
const RATE = new RegExp(String.raw`^(${TIME}),(\d+),GET /rate/([^\s,/=]+)=(\d+)$`);
const REQUEST = new RegExp(String.raw`^(${TIME}),(\d+),recommendation request (\S+), status (\d+), result: (.*), (\d+) ms$`);

const world = createWorld({ users: 400, movies: 150, seed: 11 });
let root: string;
let dir: string;
let summary: SimulationSummary;
let lines: string[];

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "sim-test-"));
  dir = join(root, "a");
  summary = await writeSimulation(world, { outDir: dir, days: 6, seed: 3 });
  lines = (await readFile(join(dir, "events.log"), "utf8")).split("\n");
  expect(lines.pop()).toBe("");
});
afterAll(() => rm(root, { recursive: true, force: true }));

describe("writeSimulation", () => {
  it("writes the same bytes for the same seed and different ones for another seed", async () => {
    const same = join(root, "same");
    const other = join(root, "other");
    await writeSimulation(createWorld({ users: 400, movies: 150, seed: 11 }), { outDir: same, days: 6, seed: 3 });
    await writeSimulation(world, { outDir: other, days: 6, seed: 4 });
    expect((await md5Dir(same)).md5).toBe((await md5Dir(dir)).md5);
    expect(await md5File(join(other, "events.log"))).not.toBe(await md5File(join(dir, "events.log")));
  });

  it("writes only the three line formats, apart from dirty lines it counts exactly", async () => {
    const users = new Set((await readUsers(dir)).map((u) => u.user_id));
    const movies = new Set((await readMovies(dir)).map((m) => m.id));
    const seen = { broken: 0, duplicate: 0, outOfRange: 0, unknownUser: 0, unknownMovie: 0, outOfOrder: 0, timeouts: 0 };
    let maxTime = "";
    lines.forEach((line, n) => {
      if (lines.slice(Math.max(0, n - 3), n).includes(line)) return void seen.duplicate++;
      const w = WATCH.exec(line), r = RATE.exec(line), q = REQUEST.exec(line);
      const m = w ?? r ?? q;
      if (!m) return void seen.broken++;
      if (r && !/^[1-5]$/.test(r[4]!)) return void seen.outOfRange++;
      if (q) {
        if (q[4] === "200") expect(q[5]!.split(", ").every((id) => world.movieIndex.has(id))).toBe(true);
        else expect(q[5]).toBe(TIMEOUT_TEXT), seen.timeouts++;
      }
      const movie = w?.[3] ?? r?.[3];
      if (!users.has(Number(m[2]))) seen.unknownUser++;
      if (movie !== undefined && !movies.has(movie)) seen.unknownMovie++;
      // Ingest's rule: a kept line earlier than the latest kept line before it.
      if (m[1]! < maxTime) seen.outOfOrder++;
      else maxTime = m[1]!;
    });
    const d = summary.dirty, rejects = d.rejects;
    expect(lines.length).toBe(summary.fileLines);
    expect(summary.fileLines).toBe(summary.lines.total + rejects.duplicate);
    expect(seen.broken).toBe(rejects.truncated + rejects.bad_time + rejects.bad_user_id + rejects.bad_minute + rejects.bad_request);
    expect(rejects.truncated).toBeGreaterThan(0);
    expect(rejects.bad_user_id).toBeGreaterThan(0);
    expect(seen.duplicate).toBe(rejects.duplicate);
    expect(seen.outOfRange).toBe(rejects.rating_out_of_range);
    expect(seen.unknownUser).toBe(d.unknownUserLines);
    expect(seen.unknownMovie).toBe(d.unknownMovieLines);
    expect(seen.unknownUser + seen.unknownMovie).toBeGreaterThan(0);
    expect(seen.outOfOrder).toBe(d.outOfOrder);
    expect(seen.outOfOrder).toBeGreaterThan(0);
    expect(seen.timeouts).toBeGreaterThan(0);
    expect(d.share).toBeGreaterThan(0.005);
    expect(d.share).toBeLessThan(0.03);
  });

  it("writes side files that validate and leave a few ids out", async () => {
    const users = await readUsers(dir);
    const movies = await readMovies(dir);
    expect(users.length).toBeLessThan(world.users.length);
    expect(users.length).toBeGreaterThan(world.users.length * 0.9);
    expect(movies.length).toBeLessThanOrEqual(world.movies.length);
    expect(movies[0]).toEqual(world.movies.find((m) => m.id === movies[0]!.id));
  });

  it("has most watching on a few popular movies", () => {
    const sessions = new Map<string, number>();
    for (const line of lines) {
      const w = WATCH.exec(line);
      if (w && w[4] === "1") sessions.set(w[3]!, (sessions.get(w[3]!) ?? 0) + 1);
    }
    const counts = [...sessions.values()].sort((a, b) => b - a);
    const total = counts.reduce((a, b) => a + b, 0);
    const top = counts.slice(0, Math.ceil(world.movies.length / 10)).reduce((a, b) => a + b, 0);
    expect(top / total).toBeGreaterThan(0.3);
  });

  it("has MovieLens-like ratings, many per user, and more watch lines than ratings", () => {
    const stars = lines.flatMap((l) => {
      const r = RATE.exec(l);
      return r && /^[1-5]$/.test(r[4]!) ? [Number(r[4])] : [];
    });
    const mean = stars.reduce((a, b) => a + b, 0) / stars.length;
    const hist = [1, 2, 3, 4, 5].map((s) => stars.filter((x) => x === s).length);
    expect(mean).toBeGreaterThan(3.2);
    expect(mean).toBeLessThan(3.9);
    expect(hist.indexOf(Math.max(...hist)) + 1).toBe(4);
    // Users rate a fair share of what they see (~2.7 ratings a day for an average user: ~80 in a
    // 30-day world, as MovieLens users have ~100), while watch lines (one per minute) still dominate.
    expect(summary.lines.rate / world.users.length / 6).toBeGreaterThan(2);
    expect(summary.lines.watch).toBeGreaterThan(3 * summary.lines.rate);
    expect(summary.ratings.count).toBe(stars.length - countDupRatings());
  });

  it("writes the hidden truth so it reads back exactly", async () => {
    const { meta, truth } = await readTruth(join(dir, "truth"));
    expect(meta.movieIds).toEqual(world.movieIds);
    expect(createWorld(meta.worldOptions).movies).toEqual(world.movies);
    expect(truth.userFactors).toEqual(world.truth.userFactors);
    expect(truth.movieBias).toEqual(world.truth.movieBias);
    expect(meta.unlisted.users.length).toBe(world.listedUser.length - world.listedUser.reduce((a, b) => a + b, 0));
  });

  it("refuses to replace a file or a directory that is not a simulation output", async () => {
    const busy = join(root, "busy");
    await mkdir(busy);
    await writeFile(join(busy, "notes.txt"), "keep me");
    const err = await writeSimulation(world, { outDir: busy, days: 1, seed: 1 }).catch((e: unknown) => e);
    expect((err as RecsysError).code).toBe("RECSYS_OUTPUT_REFUSED");
    expect(await readFile(join(busy, "notes.txt"), "utf8")).toBe("keep me");
    const file = join(busy, "notes.txt");
    const err2 = await writeSimulation(world, { outDir: file, days: 1, seed: 1 }).catch((e: unknown) => e);
    expect((err2 as RecsysError).code).toBe("RECSYS_OUTPUT_REFUSED");
    expect(await readFile(file, "utf8")).toBe("keep me");
  });
});

/** Clean rating lines that are retries of an earlier line (not counted again in the summary). */
function countDupRatings(): number {
  return lines.filter((l, n) => RATE.test(l) && /=[1-5]$/.test(l) && lines.slice(Math.max(0, n - 3), n).includes(l)).length;
}
