import { cp, readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { readManifest, readMovies, readRatings, readUsers, type RatingRow } from "@recsys/core";
import { detectMovieLensLayout, importMovieLens } from "../src/index.ts";
import { fixture, readLines, tempDir } from "./helpers.ts";

/** A copy of a fixture with every file rewritten by `edit` (bytes as latin1, so u.item's accents survive). */
async function editedCopy(name: string, edit: (text: string, file: string) => string): Promise<string> {
  const dir = join(await tempDir(), name);
  await cp(fixture(name), dir, { recursive: true });
  for (const file of await readdir(dir)) await writeFile(join(dir, file), edit(await readFile(join(dir, file), "latin1"), file), "latin1");
  return dir;
}

/** What an import produced, without the manifest (its hashes and source differ by design between copies). */
async function datasetContent(dir: string) {
  return { ratings: await ratingsOf(dir), movies: await readMovies(dir), users: await readUsers(dir), rejects: (await readLines(join(dir, "rejects.csv"))).map((l) => l.split(",").slice(0, 2).join(" ")) };
}

async function ratingsOf(dir: string): Promise<RatingRow[]> {
  const out: RatingRow[] = [];
  for (const r of await readRatings(dir)) out.push(r);
  return out;
}

describe("importMovieLens", () => {
  it("imports ml-100k: tab ratings, latin1 titles, demographics, genre flags, unique slugs", async () => {
    const outDir = join(await tempDir(), "ds");
    const s = await importMovieLens({ dir: fixture("ml-100k"), outDir });
    expect(s.layout).toBe("ml-100k");
    expect(await ratingsOf(outDir)).toEqual([
      { userId: 1, movieId: "misérables+les+1995", rating: 3, time: "1997-10-15T05:26:11.000000" },
      { userId: 1, movieId: "toy+story+1995", rating: 5, time: "1997-09-22T22:02:38.000000" },
      { userId: 2, movieId: "toy+story+1995", rating: 4, time: "1998-02-27T03:41:11.000000" },
      { userId: 2, movieId: "toy+story+1995+3", rating: 2, time: "1998-02-27T03:43:20.000000" },
    ]);
    const movies = await readMovies(outDir);
    expect(movies.find((m) => m.ml_id === 2)).toEqual({
      id: "misérables+les+1995", title: "Misérables, Les (1995)", release_date: "1995-01-01", ml_id: 2,
      genres: [{ id: 18, name: "Drama" }, { id: 10752, name: "War" }],
    });
    expect(movies.find((m) => m.ml_id === 1)!.genres.map((g) => g.name)).toEqual(["Animation", "Family", "Comedy"]);
    expect(await readUsers(outDir)).toEqual([
      { user_id: 1, age: 24, gender: "M", occupation: "technician" },
      { user_id: 2, age: 53, gender: "F", occupation: "other" },
    ]);
    const rejects = (await readLines(join(outDir, "rejects.csv"))).slice(1).map((l) => l.split(",").slice(0, 2).join(" "));
    expect(rejects).toEqual(["5 rating_out_of_range", "6 unknown_movie", "7 truncated"]);
    expect((await readManifest(outDir)).source).toBe("movielens:ml-100k");
  });

  it("imports ml-latest: headers, quoted titles, half stars, no demographics", async () => {
    const outDir = join(await tempDir(), "ds");
    const s = await importMovieLens({ dir: fixture("ml-latest"), outDir });
    expect(s.layout).toBe("ml-latest");
    const ratings = await ratingsOf(outDir);
    expect(ratings.map((r) => `${r.userId} ${r.movieId} ${r.rating}`)).toEqual([
      "1 the+godfather+1972 4.5", "1 toy+story+1995 4", "2 the+american+president+1995 3.5", "2 toy+story+1995 2.5",
    ]);
    expect(s.quality.ratings).toMatchObject({ events: 5, kept: 4, superseded: 1 });
    expect(await readUsers(outDir)).toEqual([{ user_id: 1 }, { user_id: 2 }]);
    const movies = await readMovies(outDir);
    expect(movies.map((m) => m.id)).toEqual(["the+american+president+1995", "the+godfather+1972", "toy+story+1995", "unnamed"]);
    expect(movies.find((m) => m.id === "unnamed")!.genres).toEqual([]);
    expect(s.quality.rejects.rating_out_of_range).toBe(1);
    expect(s.quality.outOfOrder.lines).toBe(0);
  });

  it("says clearly (exit 2) when a directory holds neither layout", async () => {
    await expect(detectMovieLensLayout(fixture("empty-dir"))).rejects.toMatchObject({ code: "RECSYS_INGEST_UNKNOWN_LAYOUT", exitCode: 2 });
    await expect(detectMovieLensLayout(fixture("missing"))).rejects.toMatchObject({ code: "RECSYS_INGEST_UNREADABLE", exitCode: 2 });
  });

  it.each(["ml-100k", "ml-latest"])("reads %s saved with CRLF line endings exactly as with LF", async (layout) => {
    const lf = join(await tempDir(), "lf"), crlf = join(await tempDir(), "crlf");
    await importMovieLens({ dir: fixture(layout), outDir: lf });
    const s = await importMovieLens({ dir: await editedCopy(layout, (text) => text.replaceAll("\n", "\r\n")), outDir: crlf });
    expect(await datasetContent(crlf)).toEqual(await datasetContent(lf));
    expect(s.counts.ratings).toBeGreaterThan(0);
  });

  it("accepts the Id spelling of movieId that redistributed copies of ml-latest use, and refuses any other header (exit 2)", async () => {
    const gl = join(await tempDir(), "gl"), id = join(await tempDir(), "id");
    await importMovieLens({ dir: fixture("ml-latest"), outDir: gl });
    await importMovieLens({ dir: await editedCopy("ml-latest", (text) => text.replace(/^movieId/, "Id").replace(/^userId,movieId/, "userId,Id")), outDir: id });
    expect(await datasetContent(id)).toEqual(await datasetContent(gl));
    const swapped = await editedCopy("ml-latest", (text, file) => (file === "ratings.csv" ? text.replace(/^userId,movieId/, "movieId,userId") : text));
    await expect(importMovieLens({ dir: swapped, outDir: join(await tempDir(), "x") }))
      .rejects.toMatchObject({ code: "RECSYS_INGEST_UNREADABLE", exitCode: 2, message: expect.stringContaining("header must be userId,movieId,rating,timestamp") });
  });

  it("records the rating scale in the manifest: detected half stars for ml-latest, whole stars for ml-100k, or as declared", async () => {
    const latest = join(await tempDir(), "latest"), ml100k = join(await tempDir(), "100k"), declared = join(await tempDir(), "declared");
    expect((await importMovieLens({ dir: fixture("ml-latest"), outDir: latest })).ratingScale).toEqual({ min: 0.5, max: 5, step: 0.5 });
    expect((await readManifest(latest)).ratingScale).toEqual({ min: 0.5, max: 5, step: 0.5 });
    await importMovieLens({ dir: fixture("ml-100k"), outDir: ml100k });
    expect((await readManifest(ml100k)).ratingScale).toEqual({ min: 1, max: 5, step: 1 });
    // Declared whole stars: the half-star rows become rejects, the rest is kept.
    const s = await importMovieLens({ dir: fixture("ml-latest"), outDir: declared, ratingScale: { min: 1, max: 5, step: 1 }, maxRejectShare: 1 });
    expect((await ratingsOf(declared)).map((r) => r.rating)).toEqual([4]);
    expect(s.quality.rejects.rating_out_of_range).toBe(5);
    expect((await readManifest(declared)).ratingScale).toEqual({ min: 1, max: 5, step: 1 });
  });
});
