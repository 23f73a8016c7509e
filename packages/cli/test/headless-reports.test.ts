import { execFile } from "node:child_process";
import { mkdtemp, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createRng } from "@recsys/core";
import { analyzeCanary, writeCanaryReport, type RequestRecord, type WatchRecord } from "@recsys/canary";
import { buildFairnessReport, FAIRNESS_DEFAULTS, simulatedWorlds, writeFairnessReport } from "@recsys/fairness";

/**
 * The HTML reports as a user sees them: opened by a real browser (Debian's chromium, headless),
 * whose DOM must hold the server-rendered charts with their marks. Without a chromium binary the
 * file is skipped with one SKIPPED line (.ci/run installs it).
 */
const CHROMIUM = await new Promise<string | null>((resolve) => {
  execFile("sh", ["-c", "command -v chromium || command -v chromium-browser"], (err, out) => resolve(err ? null : out.trim().split("\n")[0]!));
});
if (!CHROMIUM) process.stderr.write("SKIPPED packages/cli/test/headless-reports.test.ts: no chromium binary (apt-get install -y chromium)\n");

let root: string;
beforeAll(async () => { root = await mkdtemp(join(tmpdir(), "headless-")); });
afterAll(() => rm(root, { recursive: true, force: true }));

/** One headless chromium run on a local file; its profile and temp files stay below `root`. */
function chromium(args: string[], file: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const profile = join(root, `profile-${Math.random().toString(36).slice(2)}`);
    execFile(CHROMIUM!, ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-extensions", "--disable-background-networking",
      "--disable-dev-shm-usage", `--user-data-dir=${profile}`, ...args, pathToFileURL(file).href],
    { env: { ...process.env, TMPDIR: root }, timeout: 60_000, maxBuffer: 64 << 20 }, (err, stdout, stderr) => (err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout)));
  });
}

/** The chart SVGs in a DOM that have drawn marks: vega's mark groups holding a path, line or text. */
function chartsWithMarks(dom: string): number {
  const svgs = dom.match(/<svg[\s\S]*?<\/svg>/g) ?? [];
  return svgs.filter((svg) => /<g class="mark-(rect|symbol|line|rule|area)[^"]*"[^>]*>\s*<(path|line)\b/.test(svg)).length;
}

describe.skipIf(!CHROMIUM)("reports in headless Chromium", () => {
  it("the fairness report opens with its charts drawn, and its screenshot is not blank", async () => {
    const worlds = await simulatedWorlds(join(root, "worlds"));
    const report = await buildFairnessReport({ modelDir: worlds.planted.model, dataDir: worlds.planted.data, config: { ...FAIRNESS_DEFAULTS, bootstrap: 100, permutations: 100 }, seed: 1 });
    const out = join(root, "fairness");
    await writeFairnessReport(out, report);
    const html = join(out, "report.html");
    const dom = await chromium(["--dump-dom"], html);
    expect(dom).toContain("Fairness report");
    expect(chartsWithMarks(dom)).toBeGreaterThanOrEqual(10);
    // A page without charts compresses to a tiny PNG; the same window with the report's charts does not.
    const blank = join(root, "blank.html");
    await writeFile(blank, "<!doctype html><html><body></body></html>");
    const shot = async (page: string, png: string) => { await chromium([`--screenshot=${png}`, "--window-size=1100,2400"], page); return (await stat(png)).size; };
    expect(await shot(html, join(root, "report.png"))).toBeGreaterThan(5 * (await shot(blank, join(root, "blank.png"))));
  }, 180_000);

  it("the canary report opens with its latency, success and follow-rate charts drawn", async () => {
    const rng = createRng(3), t0 = Date.parse("2026-12-01T10:00:00Z");
    const requests: RequestRecord[] = [], watches: WatchRecord[] = [];
    for (let i = 0; i < 1200; i++) {
      const timeMs = t0 + i * 1000, userId = rng.int(300), release = i % 5 === 0 ? "canary" : "stable";
      const movieIds = Array.from({ length: 5 }, () => `m${rng.int(100)}`);
      requests.push({ timeMs, userId, release, status: 200, latencyMs: 5 + rng.int(40), movieIds });
      if (rng.next() < 0.3) watches.push({ timeMs: timeMs + 10_000, userId, movieId: movieIds[0]! });
    }
    const a = analyzeCanary({ requests, watches, canary: "canary", windowStartMs: t0, windowEndMs: t0 + 1_200_000 });
    const html = join(root, "canary.html");
    await writeCanaryReport(html, a);
    const dom = await chromium(["--dump-dom"], html);
    expect(dom).toContain("Canary analysis: canary vs stable");
    expect(chartsWithMarks(dom)).toBeGreaterThanOrEqual(3);
  }, 120_000);
});
