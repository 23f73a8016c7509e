import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { describe, expect, it, onTestFinished } from "vitest";
import { TELEMETRY_HEADER } from "@recsys/core";
import { analyzeWindow } from "./analysis.ts";
import type { Replica } from "./driver.ts";

const header = TELEMETRY_HEADER.join(",") + "\n";
const lines = (release: string, from: number, n: number) =>
  Array.from({ length: n }, (_, i) => `2026-12-01T10:00:${String(from + i).padStart(2, "0")}.000000,id-${release}-${from + i},${i},200,1.5,${release},c,m,d,movie+1+1999,\n`).join("");

describe("analyzeWindow", () => {
  it("reads each replica's rotated .csv.gz logs too, a file caught mid-rotation once", async () => {
    const dir = await mkdtemp(join(tmpdir(), "deploy-analysis-"));
    onTestFinished(() => rm(dir, { recursive: true, force: true }));
    await writeFile(join(dir, "responses-20261201.csv.gz"), gzipSync(header + lines("r2", 0, 10)));
    await writeFile(join(dir, "responses-20261201-1.csv.gz"), gzipSync(header + lines("r1", 10, 5)));
    await writeFile(join(dir, "responses-20261201-1.csv"), header + lines("r1", 10, 5)); // its plain twin, not yet removed
    await writeFile(join(dir, "responses-20261201-2.csv"), header + lines("r1", 15, 7));
    const replica: Replica = { id: "r1@1", url: "http://127.0.0.1:1", releaseId: "r1", modelDir: "m", driver: "process", handle: "1", telemetryDir: dir, startedAt: "2026-12-01T10:00:00Z" };
    const a = await analyzeWindow({ replicas: [replica], canary: "r2", stable: "r1", windowStartMs: Date.parse("2026-12-01T10:00:00Z"), windowEndMs: Date.parse("2026-12-01T10:01:00Z") });
    expect(a.arms.canary.requests).toBe(10);
    expect(a.arms.stable.requests).toBe(12);
  });
});
