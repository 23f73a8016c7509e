import { afterAll, describe, expect, it } from "vitest";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCli } from "../main.ts";
import { captureIo } from "../../test/run-cli.ts";

const io = captureIo;

const root = await mkdtemp(join(tmpdir(), "sim-cli-"));
afterAll(() => rm(root, { recursive: true, force: true }));

describe("recsys simulate", () => {
  it("writes a small world and prints its figures as JSON", async () => {
    const t = io();
    const out = join(root, "sim");
    const code = await runCli(["simulate", "--out", out, "--users", "100", "--movies", "60", "--days", "2", "--seed", "5", "--json"], t.io);
    expect(t.err()).toBe("");
    expect(code).toBe(0);
    const summary = JSON.parse(t.out());
    expect(summary.users).toBe(100);
    expect(summary.fileLines).toBeGreaterThan(0);
    expect(summary.dirty.total).toBeGreaterThan(0);
    expect((await readdir(out)).sort()).toEqual([".recsys-output.json", "events.log", "movies.jsonl", "truth", "users.jsonl"]);
  });

  it.each([
    [["--out", join(root, "x"), "--users", "-5"]],
    [["--out", join(root, "x"), "--movies", "10"]],
    [["--out", join(root, "x"), "--days", "abc"]],
    [["--users", "10"]],
  ])("exits 2 with one line on bad flags %j", async (args) => {
    const t = io();
    expect(await runCli(["simulate", ...args], t.io)).toBe(2);
    expect(t.err().trim().split("\n")).toHaveLength(1);
  });
});
