import { afterAll, describe, expect, it } from "vitest";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCapture } from "./run-cli.ts";

const root = await mkdtemp(join(tmpdir(), "data-quality-"));
afterAll(() => rm(root, { recursive: true, force: true }));

describe("simulate and ingest report data quality in the same categories", () => {
  it("ingesting a simulation gives the injected dirt back, category by category", async () => {
    const sim = join(root, "sim");
    const s = await runCapture(["simulate", "--out", sim, "--users", "1500", "--movies", "300", "--days", "8", "--seed", "5", "--json"]);
    expect(s.code, s.stderr).toBe(0);
    const i = await runCapture(["ingest", "--events", join(sim, "events.log"), "--users", join(sim, "users.jsonl"), "--movies", join(sim, "movies.jsonl"), "--out", join(root, "ds"), "--json"]);
    expect(i.code, i.stderr).toBe(0);
    const dirty = JSON.parse(s.stdout).dirty, q = JSON.parse(i.stdout).quality;
    // Ingest may also catch exact repeats the site produced by itself: its duplicates can only be
    // more, and each extra one can hide one line of a kept category (skewed or with an unknown id).
    const extra = q.rejects.duplicate - dirty.rejects.duplicate;
    expect(extra).toBeGreaterThanOrEqual(0);
    expect(extra).toBeLessThanOrEqual(dirty.rejects.duplicate * 0.01);
    for (const [code, n] of Object.entries(dirty.rejects)) {
      if (code !== "duplicate") expect(q.rejects[code], code).toBe(n);
    }
    const rejectedElsewhere = Object.entries(q.rejects).filter(([code]) => !(code in dirty.rejects)).map(([, n]) => n);
    expect(rejectedElsewhere.every((n) => n === 0)).toBe(true);
    expect(Math.abs(q.outOfOrder.lines - dirty.outOfOrder)).toBeLessThanOrEqual(extra);
    expect(Math.abs(q.users.unknown.lines - dirty.unknownUserLines)).toBeLessThanOrEqual(extra);
    expect(Math.abs(q.movies.unknown.lines - dirty.unknownMovieLines)).toBeLessThanOrEqual(extra);
    for (const n of [dirty.rejects.truncated, dirty.rejects.bad_user_id, dirty.rejects.duplicate, dirty.outOfOrder, dirty.unknownUserLines]) expect(n).toBeGreaterThan(0);
  });
});
