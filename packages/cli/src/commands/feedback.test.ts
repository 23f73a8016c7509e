import { afterAll, describe, expect, it } from "vitest";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { watch } from "node:fs";
import { mkdir, mkdtemp, readFile, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCapture } from "../../test/run-cli.ts";

const root = await mkdtemp(join(tmpdir(), "feedback-cli-"));
afterAll(() => rm(root, { recursive: true, force: true }));

/** The name of the first entry of `dir` matching `pattern`, once there is one (woken by file-system events). */
async function firstEntry(dir: string, pattern: RegExp): Promise<string> {
  const watcher = watch(dir);
  const changed = () => once(watcher, "change");
  try {
    for (let next = changed(); ; next = changed()) {
      const hit = (await readdir(dir)).find((n) => pattern.test(n));
      if (hit) return hit;
      await next;
    }
  } finally {
    watcher.close();
  }
}

describe("recsys feedback simulate", () => {
  it.each([
    [["--epsilon", "0,0.7"], /--epsilon: 0\.7 is outside 0\.\.0\.5/],
    [["--epsilon", "0,abc"], /--epsilon: 'abc' is not a number/],
    [["--epsilon", "0.02"], /--epsilon: 0\.02 is not a whole number of the 20 slots/],
    [["--epsilon", "0.1,0.1"], /repeats a share/],
    [["--rounds", "0"], /--rounds:/],
    [["--seeds", "1.5"], /--seeds: must be a whole number/],
    [["--push-group", "martians"], /--push-group: must be one of gender:F/],
  ])("exits 2 with one line naming the flag for %j", async (args, message) => {
    const r = await runCapture(["feedback", "simulate", "--out", join(root, "never"), ...args]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toMatch(message);
    await expect(readdir(join(root, "never"))).rejects.toThrow();
  });

  it("exits 2 without --out or the sub-command", async () => {
    expect((await runCapture(["feedback", "simulate"])).code).toBe(2);
    expect((await runCapture(["feedback", "--out", join(root, "x")])).code).toBe(2);
  });

  it("refuses a folder of the user's own without --force (exit 2, untouched)", async () => {
    const mine = join(root, "mine");
    await mkdir(join(mine, "notes"), { recursive: true });
    const r = await runCapture(["feedback", "simulate", "--out", mine, "--users", "40", "--movies", "40", "--rounds", "1", "--seeds", "1", "--json"]);
    expect(r.code).toBe(2);
    expect(JSON.parse(r.stdout).error.message).toContain(mine);
    expect(await readdir(mine)).toEqual(["notes"]);
  });

  it("runs a tiny loop end to end and prints its figures as JSON", async () => {
    const out = join(root, "report");
    const r = await runCapture(["feedback", "simulate", "--out", out, "--users", "60", "--movies", "60", "--history-days", "5", "--rounds", "2", "--epsilon", "0,0.1", "--seeds", "1", "--workers", "1", "--json"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const summary = JSON.parse(r.stdout);
    expect(Object.keys(summary.final)).toEqual(["0", "0.1"]);
    expect(summary.final["0.1"].coverage).toBeGreaterThan(0);
    expect(JSON.parse(await readFile(join(out, "report.json"), "utf8")).settings.rounds).toBe(2);
  }, 300_000);

  it("on SIGINT mid-run removes everything it made, says so in one line and exits 130", async () => {
    const dir = join(root, "interrupted");
    await mkdir(dir);
    const out = join(dir, "report");
    const main = join(import.meta.dirname, "..", "main.ts");
    const child = spawn(process.execPath, ["--import", "tsx", main, "feedback", "simulate", "--out", out, "--users", "200", "--movies", "100", "--history-days", "3", "--rounds", "50", "--seeds", "1", "--workers", "1"], { stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr!.on("data", (c) => (stderr += c));
    const exit = once(child, "exit");
    try {
      // Mid-run: the output's temp sibling holds the work folder and a run has started in it.
      const tmp = join(dir, await firstEntry(dir, /^\.report\.tmp-/));
      await firstEntry(tmp, /^work$/);
      await firstEntry(join(tmp, "work"), /^run-/);
      child.kill("SIGINT");
      const [code] = await exit;
      expect(code).toBe(130);
      expect(stderr.trim().split("\n")).toHaveLength(1);
      expect(await readdir(dir)).toEqual([]);
    } finally {
      child.kill("SIGKILL");
    }
  }, 300_000);
});
