import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it, onTestFinished } from "vitest";
import { readManifest } from "@recsys/core";
import { loadRecModel } from "@recsys/artifact";
import { mainJobPaths, runMainJob } from "./main-job.ts";

describe("main job (closed loop, real router and API processes on loopback)", () => {
  it("simulates, ingests, trains, serves live traffic and records an automatic release cycle", async () => {
    const root = await mkdtemp(join(tmpdir(), "main-job-"));
    onTestFinished(() => rm(root, { recursive: true, force: true }));
    const workDir = join(root, "run");
    const lines: string[] = [];
    // The run stops at its first release verdict, however long the machine takes to get there;
    // --duration is only the backstop that ends a run which never decides (and fails below).
    let verdict = (): void => {};
    const firstVerdict = new Promise<void>((resolve) => (verdict = resolve));
    const summary = await runMainJob(
      { workDir, users: 800, movies: 300, days: 10, seed: 3, durationS: 200, routerPort: 0, cycleS: 4, rps: 40, canaryMinRequests: 60 },
      {
        event: (l) => {
          lines.push(l);
          if (/^release \S+: (promoted|rolled-back) /.test(l)) verdict();
        },
      },
      firstVerdict,
    );
    const paths = mainJobPaths(workDir);
    // The first model was trained on the ingested history and passed the gate.
    const manifest = await readManifest(paths.dataset(0));
    const firstModel = await loadRecModel(paths.model(0));
    expect(firstModel.meta.dataHash).toBe(manifest.dataHash);
    expect(lines.join("\n")).toContain("data quality");

    // At least one release cycle decided automatically by the canary analysis (not cut short by
    // the end of the run), written to the history file with its evidence and an HTML report.
    const history = (await readFile(join(paths.platform, "releases.jsonl"), "utf8")).trim().split("\n").map((l) => JSON.parse(l));
    expect(history[0].verdict).toBe("initial");
    expect(summary.releases).toHaveLength(history.length);
    const decided = history.filter((r: { verdict: string; evidence: unknown }) => (r.verdict === "promoted" || r.verdict === "rolled-back") && r.evidence !== null);
    expect(decided.length).toBeGreaterThan(0);
    for (const r of decided) expect(await readFile(join(paths.platform, "reports", `${r.releaseId}.html`), "utf8")).toContain("<svg");
    // Each retrained model passed the fairness gate before its canary, and the record keeps that verdict.
    for (const r of decided) expect(r.fairness).toMatchObject({ passed: true, reason: expect.stringMatching(/^fairness requirements pass/) });

    // The canary's analysis lines went to the run log, with their time, and not to the events.
    const runLog = await readFile(paths.runLog, "utf8");
    expect(runLog).toMatch(/^\d{4}-\d\d-\d\dT[\d:.]+Z analysis after \d+ s: /m);
    expect(runLog).toContain(lines.find((l) => l.startsWith("release "))!);
    expect(lines.filter((l) => l.startsWith("analysis after"))).toEqual([]);

    // The live users were served, and their answers became data for the next model.
    expect(summary.traffic.ok).toBeGreaterThan(200);
    expect(summary.traffic.failed / summary.traffic.sent).toBeLessThan(0.01);
    expect((await readManifest(paths.dataset(1))).counts.ratings).toBeGreaterThanOrEqual(manifest.counts.ratings!);
  }, 300_000);
});
