import { copyFile, cp, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { gzipSync } from "node:zlib";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it, onTestFinished } from "vitest";
import { CANARY_ERROR, analyzeCanaryFiles, readEventLog, readTelemetryLogs } from "../src/index.ts";

const fixture = (name: string) => join(import.meta.dirname, "fixtures", name);
const ms = (iso: string) => Date.parse(iso + "Z");

describe("readEventLog", () => {
  it("reads requests and viewings, counting bad lines instead of failing", async () => {
    const { requests, watches, stats } = await readEventLog(fixture("events.log"));
    expect(requests).toEqual([
      { timeMs: ms("2022-02-08T18:00:00"), userId: 7, release: "router-1", status: 200, latencyMs: 42, movieIds: ["up+2009", "the+godfather+1972", "heat+1995"] },
      { timeMs: ms("2022-02-08T18:00:01"), userId: 8, release: "router-1", status: 0, latencyMs: 800, movieIds: [] },
      { timeMs: ms("2022-02-08T18:00:02.500"), userId: 9, release: "api-b", status: 200, latencyMs: 120, movieIds: ["heat+1995"] },
    ]);
    // minute 1 of the first viewing is ignored; the minute-0 restart and the first line of (9, heat) are viewings
    expect(watches).toEqual([
      { timeMs: ms("2022-02-08T18:03:00"), userId: 7, movieId: "the+godfather+1972" },
      { timeMs: ms("2022-02-08T18:06:00"), userId: 7, movieId: "the+godfather+1972" },
      { timeMs: ms("2022-02-08T18:06:00"), userId: 9, movieId: "heat+1995" },
    ]);
    expect(stats).toMatchObject({ lines: 13, requests: 3, watches: 3, ignored: 2, bad: 5 });
    expect(stats.badByReason).toEqual({ truncated: 1, bad_time: 1, bad_user_id: 1, unknown_kind: 1, bad_request: 1 });
    expect(stats.badExamples[0]).toMatch(/events\.log:10: truncated$/);
  });

  it("takes the release from a mapping or from the router's served-by log", async () => {
    const mapped = await readEventLog(fixture("events.log"), { releaseMap: { "router-1": "r1" } });
    expect(mapped.requests.map((r) => r.release)).toEqual(["r1", "r1", "api-b"]);
    const served = await readEventLog(fixture("events.log"), { servedByFile: fixture("events.log.releases.csv"), releaseMap: { "api-b": "r3" } });
    expect(served.requests.map((r) => r.release)).toEqual(["r2", "r1", "r3"]);
  });

  it("refuses a missing file with a coded error", async () => {
    await expect(readEventLog(fixture("nope.log"))).rejects.toMatchObject({ code: CANARY_ERROR.badFile, exitCode: 2 });
  });
});

describe("readTelemetryLogs", () => {
  it("reads a directory of API logs, skipping bad rows", async () => {
    const { requests, stats } = await readTelemetryLogs([fixture("telemetry")]);
    expect(requests.map((r) => [r.userId, r.status, r.release, r.latencyMs, r.movieIds.join("|")])).toEqual([
      [7, 200, "r2", 12.5, "up+2009|heat+1995"],
      [8, 503, "r2", 3, ""],
      [-1, 400, "r1", 1, ""],
      [10, 200, "r1", 30, "up+2009"],
    ]);
    expect(requests[0]!.timeMs).toBe(ms("2022-02-08T18:00:00"));
    expect(stats.requests).toBe(4);
    expect(stats.badByReason).toMatchObject({ bad_status: 1, bad_column_count: 1, bad_result: 1 });
    expect(stats.badByReason.bad_csv).toBe(1); // the torn quoted field at the end of a file
    expect(stats.bad).toBe(4);
  });

  it("reads the logs of every replica folder below a platform directory", async () => {
    const root = await mkdtemp(join(tmpdir(), "canary-replicas-"));
    onTestFinished(() => rm(root, { recursive: true, force: true }));
    for (const [replica, file] of [["r1@1", "responses-20220208.csv"], ["r2@2", "responses-20220209.csv"]] as const) {
      await mkdir(join(root, replica));
      await copyFile(join(fixture("telemetry"), file), join(root, replica, file));
    }
    await writeFile(join(root, "r1@1.log"), "replica output, not telemetry\n");
    const nested = await readTelemetryLogs([root]);
    const flat = await readTelemetryLogs([join(fixture("telemetry"), "responses-20220208.csv"), join(fixture("telemetry"), "responses-20220209.csv")]);
    expect(nested.requests).toEqual(flat.requests);
    expect(nested.requests.length).toBeGreaterThan(0);
  });

  it("reads rotated .csv.gz logs as they are: a mix of gz and plain analyses as the plain files do", async () => {
    const dir = await mkdtemp(join(tmpdir(), "canary-gz-"));
    onTestFinished(() => rm(dir, { recursive: true, force: true }));
    await cp(fixture("telemetry"), dir, { recursive: true });
    for (const name of ["responses-20220208.csv", "responses-20220209.csv"]) {
      await writeFile(join(dir, `${name}.gz`), gzipSync(await readFile(join(dir, name))));
    }
    // 20220208 fully rotated; 20220209 caught between the API's rename of the .gz and its removal of the plain file.
    await rm(join(dir, "responses-20220208.csv"));
    // Same records, counts and evidence; only the paths in the bad-line examples name the .gz.
    const same = (value: unknown, root: string) => JSON.stringify(value).replaceAll(root, "DIR").replaceAll(".csv.gz", ".csv");
    const mixed = await readTelemetryLogs([dir]);
    expect(mixed.requests.length).toBe(4);
    expect(same(mixed, dir)).toBe(same(await readTelemetryLogs([fixture("telemetry")]), fixture("telemetry")));
    const analyse = (telemetry: string) => analyzeCanaryFiles({ eventsFile: fixture("events.log"), telemetryFiles: [telemetry], canary: "r2" });
    expect(same(await analyse(dir), dir)).toBe(same(await analyse(fixture("telemetry")), fixture("telemetry")));
  });

  it("refuses a corrupt .gz with a coded error instead of hanging", async () => {
    const dir = await mkdtemp(join(tmpdir(), "canary-gz-"));
    onTestFinished(() => rm(dir, { recursive: true, force: true }));
    await writeFile(join(dir, "responses-20220208.csv.gz"), "not gzip at all");
    await expect(readTelemetryLogs([dir])).rejects.toMatchObject({ code: CANARY_ERROR.badFile });
  });

  it("refuses a header without the needed columns and a missing file", async () => {
    await expect(readTelemetryLogs([fixture("wrong-header.csv")])).rejects.toMatchObject({ code: CANARY_ERROR.badTelemetry });
    await expect(readTelemetryLogs([fixture("missing.csv")])).rejects.toMatchObject({ code: CANARY_ERROR.badFile });
  });
});
