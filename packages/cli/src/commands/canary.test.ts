import { afterAll, describe, expect, it } from "vitest";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createRng, formatEventTime, formatRequestLine, formatWatchLine, TELEMETRY_HEADER } from "@recsys/core";
import { runCli } from "../main.ts";
import { captureIo } from "../../test/run-cli.ts";

const io = captureIo;

const root = await mkdtemp(join(tmpdir(), "canary-cli-"));
afterAll(() => rm(root, { recursive: true, force: true }));
const T0 = Date.parse("2022-02-08T12:00:00Z");

/** One hour of traffic over releases c (canary) and s1, s2; `failing` makes the canary time out 10 % of the time. */
async function world(failing: boolean): Promise<{ events: string; telemetry: string }> {
  const rng = createRng(11);
  const lines: { t: number; s: string }[] = [];
  const rows = [TELEMETRY_HEADER.join(",")];
  for (let i = 0; i < 3000; i++) {
    const t = T0 + i * 1200;
    const user = rng.int(400);
    const release = ["c", "s1", "s2"][i % 3]!;
    const ok = !(failing && release === "c" && rng.next() < 0.1);
    const ids = Array.from({ length: 5 }, () => `m${rng.int(300)}`);
    const latency = ok ? 20 + rng.int(60) : 800;
    lines.push({ t, s: formatRequestLine(t, user, release, ok ? 200 : 0, ok ? ids : "timeout", latency) });
    rows.push(`${formatEventTime(t)},q${i},${user},${ok ? 200 : 0},${latency},${release},abc,m,d,${ok ? ids.join("|") : "timeout"},`);
    if (ok && rng.next() < 0.3) lines.push({ t: t + 60_000, s: formatWatchLine(t + 60_000, user, ids[0]!, 0) });
  }
  lines.push({ t: T0 + 5_000_000, s: formatWatchLine(T0 + 5_000_000, 1, "m1", 0) });
  const dir = join(root, failing ? "failing" : "healthy");
  const events = join(dir + "-events.log");
  const telemetry = join(dir + "-responses.csv");
  await writeFile(events, lines.sort((a, b) => a.t - b.t).map((l) => l.s).join("\n") + "\n2022-02-08T12:00:00,7,GET /data/m/oops\n");
  await writeFile(telemetry, rows.join("\n") + "\n");
  return { events, telemetry };
}

const healthy = await world(false);
const failing = await world(true);

describe("recsys canary analyze", () => {
  it("promotes a healthy canary, prints the analysis as JSON and writes an HTML report", async () => {
    const t = io();
    const report = join(root, "report.html");
    const code = await runCli(["canary", "analyze", "--events", healthy.events, "--canary", "c", "--report", report, "--json"], t.io);
    expect(t.err()).toBe("");
    expect(code).toBe(0);
    const s = JSON.parse(t.out());
    expect(s.verdict).toBe("promote");
    expect(s.reasons.length).toBeGreaterThan(0);
    expect(s.stable).toEqual(["s1", "s2"]);
    expect(Object.keys(s.perRelease)).toEqual(["c", "s1", "s2"]);
    expect(s.perRelease.c).toMatchObject({ requests: 1000, successRate: 1 });
    expect(Object.keys(s.perRelease.c)).toEqual(expect.arrayContaining(["requests", "successRate", "p50", "p99", "followRate", "followCi"]));
    expect(s.tests.quality).toEqual(expect.objectContaining({ diff: expect.any(Number), z: expect.any(Number), pValue: expect.any(Number), significantWorse: false }));
    expect(s.tests.quality.ci95).toHaveLength(2);
    expect(s.timeSeries.perRelease.c.p99.length).toBe(s.timeSeries.bucketStartsMs.length);
    expect(s.inputs.events.bad).toBe(1);
    const html = await readFile(report, "utf8");
    expect(html).toContain("<svg");
    expect(html).not.toMatch(/<script|https?:\/\/(?!www\.w3\.org)/);
  });

  it("rolls back a failing canary from the API telemetry, with a text table", async () => {
    const t = io();
    const code = await runCli(["canary", "analyze", "--events", failing.events, "--telemetry", failing.telemetry, "--canary", "c", "--stable", "s1,s2", "--window", "30m"], t.io);
    expect(code).toBe(0);
    expect(t.out()).toMatch(/verdict: ROLLBACK/);
    expect(t.out()).toMatch(/availability: canary \d+\.\d\d%.*FAILED/);
    expect(t.out()).toMatch(/^c \(canary\)\s+500\s/m);
    expect(t.out()).toMatch(/requests analysed from telemetry/);
  });

  it("takes an ISO window and a config file", async () => {
    const config = join(root, "canary.json");
    await writeFile(config, JSON.stringify({ minRequests: 5000 }));
    const t = io();
    const code = await runCli(["canary", "analyze", "--events", healthy.events, "--canary", "c", "--window", "2022-02-08T12:00:00..2022-02-08T12:30:00", "--config", config, "--json"], t.io);
    expect(code).toBe(0);
    const s = JSON.parse(t.out());
    expect(s.verdict).toBe("continue");
    expect(s.window.endMs - s.window.startMs).toBe(1_800_000);
    expect(s.config.minRequests).toBe(5000);
  });

  it.each([
    [["analyze", "--canary", "c"]],
    [["--events", "E", "--canary", "c"]],
    [["analyse", "--events", "E", "--canary", "c"]],
    [["analyze", "--events", "E"]],
    [["analyze", "--events", "E", "--canary", "c", "--window", "soon"]],
    [["analyze", "--events", "E", "--canary", "c", "--window", "2022-02-08T13:00:00..2022-02-08T12:00:00"]],
    [["analyze", "--events", join(root, "missing.log"), "--canary", "c"]],
    [["analyze", "--events", "E", "--canary", "c", "--config", "BADCONFIG"]],
    [["analyze", "--events", "E", "--canary", "c", "--stable", "c"]],
    [["analyze", "--events", "E", "--canary", "c", "--bogus"]],
    [["analyze", "--events", "E", "--canary", "c2"]],
    [["analyze", "--events", "E", "--canary", "c", "--stable", "s1,s9"]],
  ])("exits 2 on bad input: %j", async (args) => {
    const badConfig = join(root, "bad.json");
    await writeFile(badConfig, JSON.stringify({ maxP99: 300 }));
    const argv = args.map((a) => (a === "E" ? healthy.events : a === "BADCONFIG" ? badConfig : a));
    const t = io();
    expect(await runCli(["canary", ...argv], t.io)).toBe(2);
    expect(t.err()).toMatch(/^recsys canary: /);
    expect(t.err().trim().split("\n")).toHaveLength(1);
  });

  it("works on a simulated world as the top-level README's manual session runs it", async () => {
    const dir = join(root, "readme-world");
    expect(await runCli(["simulate", "--out", dir, "--users", "300", "--movies", "80", "--days", "3"], io().io)).toBe(0);
    const t = io();
    const report = join(root, "readme-canary.html");
    expect(await runCli(["canary", "analyze", "--events", join(dir, "events.log"), "--canary", "recsys-legacy:8082", "--report", report], t.io)).toBe(0);
    expect(t.out()).toMatch(/^verdict: (ROLLBACK|CONTINUE|PROMOTE)$/m);
    expect(await readFile(report, "utf8")).toContain("<svg");
  });
});
