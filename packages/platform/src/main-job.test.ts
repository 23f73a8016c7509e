import { mkdtemp, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { readManifest } from "@recsys/core";
import { mainJobPaths, runMainJob } from "./main-job.ts";

describe("main job", () => {
  it("simulates, ingests and reports quality on a small world", async () => {
    const workDir = join(await mkdtemp(join(tmpdir(), "main-job-")), "run");
    const lines: string[] = [];
    const summary = await runMainJob({ workDir, users: 150, movies: 80, days: 2, seed: 3 }, (l) => lines.push(l));
    const manifest = await readManifest(mainJobPaths(workDir).dataset);
    expect(manifest.dataHash).toBe(summary.ingest.dataHash);
    expect(manifest.counts.ratings).toBeGreaterThan(0);
    // Every deliberately dirty line the simulator wrote is either rejected or kept as a counted oddity, never a crash.
    expect(summary.ingest.rejected).toBeGreaterThan(0);
    expect(lines.join("\n")).toContain("data quality");
    expect(await readFile(join(mainJobPaths(workDir).dataset, "quality.txt"), "utf8")).toContain("rejects");
  });
});
