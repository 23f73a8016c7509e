import { spawn } from "node:child_process";
import { readFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { fixture, tempDir } from "./helpers.ts";

const ROOT = resolve(import.meta.dirname, "../../..");

/** Runs the real CLI (`npx tsx packages/cli/src/main.ts ingest ...`), optionally piping `stdin` in. */
function cli(args: string[], stdin = ""): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((done, fail) => {
    const child = spawn("npx", ["tsx", "packages/cli/src/main.ts", "ingest", ...args], { cwd: ROOT, env: { ...process.env, CI: "1" } });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("error", fail);
    child.on("close", (code) => done({ code, stdout, stderr }));
    child.stdin.end(stdin);
  });
}

describe("recsys ingest", () => {
  it("reads the event stream from stdin and prints the figures with --json", async () => {
    const outDir = join(await tempDir(), "ds");
    const events = await readFile(fixture("events.log"), "utf8");
    const r = await cli(["--events", "-", "--users", fixture("users.jsonl"), "--out", outDir, "--json"], events);
    expect(r.code, r.stderr).toBe(0);
    const figures = JSON.parse(r.stdout);
    expect(figures.counts).toMatchObject({ lines: 24, ratings: 2, watches: 3, rejects: 11 });
    expect(figures.quality.users.unknown).toEqual({ ids: 2, lines: 2 });
    const manifest = JSON.parse(await readFile(join(outDir, "manifest.json"), "utf8"));
    expect(manifest.dataHash).toBe(figures.dataHash);
  });

  it("warns on stderr, exits 0 and writes the dataset when a notable share of lines is rejected", async () => {
    const outDir = join(await tempDir(), "ds");
    const lines = Array.from({ length: 10 }, (_, i) => `2022-02-08T18:06:0${i},1,GET /data/m/x+1999/${i === 0 ? 5000 : i}.mpg`);
    const r = await cli(["--events", "-", "--out", outDir], lines.join("\n") + "\n");
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain("recsys ingest: warning: 10.0% of lines rejected (1 of 10: bad_minute 1), above 5%");
    expect(JSON.parse(await readFile(join(outDir, "quality.json"), "utf8")).rejectShare).toEqual({ value: 0.1, warnAbove: 0.05, failAbove: 0.5 });
  });

  it("prints the readable quality summary by default", async () => {
    const r = await cli(["--movielens", fixture("ml-latest"), "--out", join(await tempDir(), "ds")]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain("data quality (movielens:ml-latest)");
    expect(r.stdout).toContain("rating scale: 0.5..5 step 0.5");
  });

  it("takes a declared --rating-scale for MovieLens and reports it in --json", async () => {
    const r = await cli(["--movielens", fixture("ml-latest"), "--rating-scale", "0.5,5,0.5", "--out", join(await tempDir(), "ds"), "--json"]);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).ratingScale).toEqual({ min: 0.5, max: 5, step: 0.5 });
  });

  it.concurrent.each([
    [["--events", "-"], "--out"],
    [["--out", "x"], "exactly one of"],
    [["--events", "-", "--movielens", "d", "--out", "x"], "exactly one of"],
    [["--events", "/nonexistent/events.log", "--out", "x"], "/nonexistent/events.log"],
    [["--movielens", fixture("empty-dir"), "--out", "x"], "no MovieLens files"],
    [["--events", "-", "--out", "x"], "stdin: no line was accepted (the input is empty)"],
    [["--events", "-", "--max-reject-share", "1.5", "--out", "x"], "max-reject-share"],
    [["--movielens", "d", "--rating-scale", "1,5", "--out", "x"], "--rating-scale \"1,5\": give MIN,MAX,STEP"],
    [["--movielens", "d", "--rating-scale", "1,5,0.3", "--out", "x"], "--rating-scale"],
    [["--events", "-", "--rating-scale", "1,5,1", "--out", "x"], "--rating-scale goes with --movielens"],
  ])("exits 2 with one line for %j", async (args, message) => {
    const r = await cli(args);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(message);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
  });
});
