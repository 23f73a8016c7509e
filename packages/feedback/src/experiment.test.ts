import { afterAll, describe, expect, it } from "vitest";
import { mkdir, mkdtemp, readFile, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { simulateFeedback, type FeedbackReport } from "./index.ts";

const root = await mkdtemp(join(tmpdir(), "feedback-"));
afterAll(() => rm(root, { recursive: true, force: true }));

// A tiny world, 3 rounds, no exploration against 4 of 20 slots: small enough for the suite.
const TINY = { users: 120, movies: 300, historyDays: 7, rounds: 3, epsilons: [0, 0.2], seeds: 1, seed: 7, workers: 1 };

describe("feedback simulate on a tiny world", () => {
  let report: FeedbackReport;

  it("writes report.json and a self-contained report.html, and nothing else", async () => {
    report = await simulateFeedback(join(root, "a"), TINY);
    expect((await readdir(join(root, "a"))).sort()).toEqual([".recsys-output.json", "report.html", "report.json"]);
    const html = await readFile(join(root, "a", "report.html"), "utf8");
    expect(html).toContain("<svg");
    expect(html).not.toMatch(/(src|href)="https?:/);
    expect(html).toContain(`<li>${report.findings[0]!.slice(0, 30)}`);
    expect(report.runs).toHaveLength(2);
  }, 300_000);

  it("exploration measurably raises catalogue coverage in every round", () => {
    for (const round of [1, 2, 3]) {
      const at = (e: number) => report.series.find((p) => p.metric === "coverage" && p.epsilon === e && p.round === round)!.mean;
      // 4 exploratory slots a list reach far more of a 300-movie catalogue than the model's top picks alone.
      expect(at(0.2)).toBeGreaterThan(at(0) + 0.1);
    }
    expect(report.findings[0]).toMatch(/bought: catalogue coverage/);
  });

  it("measures every round: per-group quality, utility and the pushed movie", () => {
    const run = report.runs[0]!;
    expect(run.rounds.map((r) => r.round)).toEqual([1, 2, 3]);
    for (const r of run.rounds) {
      expect(r.rmse.ratings).toBeGreaterThan(0);
      expect(Object.keys(r.rmse.byGroup)).toEqual(expect.arrayContaining(["gender:F", "gender:M"]));
      expect(r.utility).toBeGreaterThan(0);
      expect(r.utility).toBeLessThanOrEqual(5);
    }
    expect(run.rounds.map((r) => r.pushed.pushing)).toEqual([true, true, true]);
    expect(run.rounds[2]!.pushed.watchers).toBeGreaterThan(0);
  });

  it("gives the same report.json for the same seed, on worker threads too", async () => {
    await simulateFeedback(join(root, "b"), { ...TINY, workers: 2 });
    expect(await readFile(join(root, "b", "report.json"), "utf8")).toBe(await readFile(join(root, "a", "report.json"), "utf8"));
  }, 300_000);

  it("refuses an output folder it did not write (exit 2) and leaves it alone", async () => {
    const foreign = join(root, "mine");
    await mkdir(join(foreign, "x"), { recursive: true });
    await expect(simulateFeedback(foreign, TINY)).rejects.toMatchObject({ exitCode: 2 });
    expect(await readdir(foreign)).toEqual(["x"]);
  }, 300_000);
});
