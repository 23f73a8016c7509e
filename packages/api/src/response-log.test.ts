import { mkdir, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { gunzipSync, gzipSync } from "node:zlib";
import { describe, expect, it, vi } from "vitest";
import { TELEMETRY_HEADER, splitCsvLine } from "@recsys/core";
import { parseTelemetryLine } from "@recsys/ingest";
import { tempDir } from "../test/helpers.ts";
import { openResponseLog, type ResponseRecord } from "./response-log.ts";
import { gzipFileInWorker, gzipInMembers, type GzipMembers } from "./response-log-archive.ts";
import { formatResponseLine } from "./response-line.ts";

const DAY1 = Date.parse("2026-12-01T23:59:59.500Z");
const DAY2 = Date.parse("2026-12-02T00:00:00.250Z");

function record(timeMs: number, requestId: string, extra: Partial<ResponseRecord> = {}): ResponseRecord {
  return {
    timeMs, requestId, userId: "42", status: 200, latencyMs: 1.25, release: "r1", commit: "abc123",
    modelHash: "m".repeat(64), dataHash: "d".repeat(32), result: "a+1999|b+2001", exploreSlots: "1", ...extra,
  };
}

async function lines(dir: string, file: string): Promise<string[]> {
  const bytes = await readFile(join(dir, file));
  return (file.endsWith(".gz") ? gunzipSync(bytes) : bytes).toString("utf8").trimEnd().split("\n");
}

describe("response log", () => {
  it("writes header + one parseable line per response, quoting error texts", async () => {
    const dir = await tempDir();
    const log = await openResponseLog({ dir, flushMs: 10_000, maxBytes: 1 << 20 });
    log.append(record(DAY1, "r-1"));
    log.append(record(DAY1, "r-2", { status: 400, userId: "a,b", result: 'user id must be a whole number, got "a,b"', exploreSlots: "" }));
    await log.close();
    const [header, ...rows] = await lines(dir, "responses-20261201.csv");
    expect(header).toBe(TELEMETRY_HEADER.join(","));
    expect(rows).toHaveLength(2);
    const parsed = parseTelemetryLine(rows[0]!);
    expect(parsed).toMatchObject({ requestId: "r-1", userId: 42, status: 200, result: "a+1999|b+2001", exploreSlots: "1", release: "r1", commit: "abc123" });
    // The bad-id line keeps its columns; ingestion quarantines it for its user id, not its shape.
    expect(parseTelemetryLine(rows[1]!)).toEqual({ reject: "bad_user_id" });
  });

  it("rotates at each UTC day and by size, and a restart continues the newest file", async () => {
    const dir = await tempDir();
    const log = await openResponseLog({ dir, flushMs: 10_000, maxBytes: 1024 });
    for (let i = 0; i < 10; i++) log.append(record(DAY1, `a-${i}`));
    for (let i = 0; i < 3; i++) log.append(record(DAY2, `b-${i}`));
    await log.close();
    expect(log.written).toBe(13); // counted right across the chunks cut at the size limit
    const names = (await readdir(dir)).sort();
    // The closed files were gzipped in the background, each with its member table; the one being written stays plain.
    expect(names).toEqual([
      "responses-20261201-1.csv.gz", "responses-20261201-1.csv.gz.members", "responses-20261201.csv.gz", "responses-20261201.csv.gz.members", "responses-20261202.csv",
    ]);
    const files = names.filter((n) => !n.endsWith(".members"));
    const all = (await Promise.all(files.map((f) => lines(dir, f)))).flatMap((l) => {
      expect(l[0]).toBe(TELEMETRY_HEADER.join(","));
      return l.slice(1);
    });
    expect(all.map((l) => l.split(",")[1]).sort()).toEqual([...Array.from({ length: 10 }, (_, i) => `a-${i}`), "b-0", "b-1", "b-2"].sort());

    const again = await openResponseLog({ dir, flushMs: 10_000, maxBytes: 1024 });
    again.append(record(DAY2, "b-3"));
    await again.close();
    expect(await readdir(dir)).toHaveLength(5);
    expect(await lines(dir, "responses-20261202.csv")).toHaveLength(5);
  });

  it("compresses a plain file left by an earlier run, and a restart never reuses a compressed part's name", async () => {
    const dir = await tempDir();
    const header = TELEMETRY_HEADER.join(",") + "\n";
    await writeFile(join(dir, "responses-20261130.csv"), header + "old line\n");
    await writeFile(join(dir, "responses-20261201.csv.gz"), gzipSync(header + "part 0\n"));
    const log = await openResponseLog({ dir, flushMs: 10_000, maxBytes: 1 << 20 });
    log.append(record(DAY1, "c-1"));
    await log.close();
    expect((await readdir(dir)).sort()).toEqual(["responses-20261130.csv.gz", "responses-20261130.csv.gz.members", "responses-20261201-1.csv", "responses-20261201.csv.gz"]);
    expect(await lines(dir, "responses-20261130.csv.gz")).toEqual([TELEMETRY_HEADER.join(","), "old line"]);
    expect(await lines(dir, "responses-20261201.csv.gz")).toEqual([TELEMETRY_HEADER.join(","), "part 0"]);
  });

  it("retention removes closed files by age and then by total size, oldest first, saying so", async () => {
    const dir = await tempDir();
    const header = TELEMETRY_HEADER.join(",") + "\n";
    for (const day of ["20261120", "20261128", "20261129", "20261130"]) await writeFile(join(dir, `responses-${day}.csv.gz`), gzipSync(header + randomBytes(2000).toString("hex") + "\n"));
    await writeFile(join(dir, "responses-20261120.csv.gz.members"), "{}"); // goes with its .gz
    const notices: string[] = [];
    const gzSize = (await readFile(join(dir, "responses-20261130.csv.gz"))).length;
    const log = await openResponseLog({
      dir, flushMs: 10_000, maxBytes: 1 << 20, now: () => DAY1, onNotice: (l) => notices.push(l),
      // 20261120 ended more than 7 days before DAY1; the size limit then leaves room for one
      // closed file (about 2 KB, incompressible) and today's file (under 1 KB).
      retention: { maxAgeMs: 7 * 86_400_000, maxTotalBytes: gzSize + 1000 },
    });
    log.append(record(DAY1, "k-1"));
    await log.close();
    expect((await readdir(dir)).sort()).toEqual(["responses-20261130.csv.gz", "responses-20261201.csv"]);
    expect(notices).toHaveLength(3);
    expect(notices[0]).toMatch(/responses-20261120\.csv\.gz.*older than 7 days/);
    expect(notices[1]).toMatch(/responses-20261128\.csv\.gz.*over/);
    expect(notices[2]).toMatch(/responses-20261129\.csv\.gz.*over/);
  });

  it("retention never touches files the platform did not write", async () => {
    const dir = await tempDir();
    await writeFile(join(dir, "notes.csv.gz"), "mine");
    await writeFile(join(dir, "responses-2026.csv.gz"), "mine too");
    const log = await openResponseLog({ dir, flushMs: 10_000, maxBytes: 1 << 20, now: () => DAY1, retention: { maxAgeMs: 0, maxTotalBytes: 0 } });
    log.append(record(DAY1, "k-1"));
    await log.close();
    expect((await readdir(dir)).sort()).toEqual(["notes.csv.gz", "responses-2026.csv.gz", "responses-20261201.csv"]);
  });

  it("keeps lines that could not be written and writes them, in order, once the file can be opened", async () => {
    const dir = await tempDir();
    // A directory where today's file should be: opening it fails (EISDIR), as a full or broken disk would.
    await mkdir(join(dir, "responses-20261201.csv"));
    const errors: string[] = [];
    const log = await openResponseLog({ dir, flushMs: 10_000, maxBytes: 1 << 20, onError: (e) => errors.push((e as NodeJS.ErrnoException).code ?? e.message) });
    for (let i = 0; i < 3; i++) log.append(record(DAY1, `q-${i}`));
    await log.flush();
    expect(errors).toEqual(["EISDIR"]);
    expect(log.written).toBe(0);
    log.append(record(DAY1, "q-3"));
    await rm(join(dir, "responses-20261201.csv"), { recursive: true });
    await log.close();
    expect(log.written).toBe(4);
    expect((await lines(dir, "responses-20261201.csv")).slice(1).map((l) => l.split(",")[1])).toEqual(["q-0", "q-1", "q-2", "q-3"]);
  });

  it("writes any text as one CSV field that reads back as it was", () => {
    for (const text of ["a+1|b+2", 'say "hi", then go', "line\nbreak", "é, with a comma", "é alone", ""]) {
      const line = formatResponseLine(record(DAY1, "t-1", { result: text, userId: text || "7" }));
      expect(line.endsWith("\n")).toBe(true);
      const fields = splitCsvLine(line.slice(0, -1));
      expect(fields).toHaveLength(TELEMETRY_HEADER.length);
      expect(fields[9]).toBe(text);
      expect(fields[2]).toBe(text || "7");
    }
  });

  it("flushes on its interval without close", async () => {
    const dir = await tempDir();
    const log = await openResponseLog({ dir, flushMs: 10, maxBytes: 1 << 20 });
    log.append(record(DAY1, "x"));
    // Waits for the timer's write however late it runs; no close() or flush() triggers it.
    await vi.waitUntil(() => log.written === 1, { timeout: 30_000 });
    expect(await lines(dir, "responses-20261201.csv")).toHaveLength(2);
    expect(log.written).toBe(1);
    await log.close();
    log.append(record(DAY1, "after-close"));
    expect(await lines(dir, "responses-20261201.csv")).toHaveLength(2);
  });
});

describe("gzipInMembers", () => {
  it("cuts whole lines into independent gzip members whose table says where each one is", async () => {
    const text = Array.from({ length: 3000 }, (_, i) => `line ${i} ${"x".repeat(i % 97)}`).join("\n") + "\ntail without newline";
    const table: GzipMembers = { version: 1, gzBytes: 0, members: [] };
    const parts: Buffer[] = [];
    // Chunks that split lines anywhere, as a file stream does.
    const chunks = Array.from({ length: Math.ceil(text.length / 777) }, (_, i) => Buffer.from(text.slice(i * 777, (i + 1) * 777)));
    for await (const member of gzipInMembers(chunks, table, 16 * 1024)) parts.push(member);
    const gz = Buffer.concat(parts);
    expect(gunzipSync(gz).toString()).toBe(text);
    expect(table.gzBytes).toBe(gz.length);
    expect(table.members.length).toBeGreaterThan(5);
    for (const [zStart, zLength, uStart, uLength] of table.members) {
      const alone = gunzipSync(gz.subarray(zStart, zStart + zLength)).toString();
      expect(alone).toBe(text.slice(uStart, uStart + uLength));
      // Whole lines only: every member but the last ends a line, and each is about 16 KiB.
      if (uStart + uLength < text.length) {
        expect(alone.endsWith("\n")).toBe(true);
        expect(uLength).toBeGreaterThanOrEqual(16 * 1024);
        expect(uLength).toBeLessThan(16 * 1024 + 200);
      }
    }
  });

  it("gives the same members and table when a worker thread compresses the file, and names a file it cannot read", async () => {
    const dir = await tempDir();
    const text = Array.from({ length: 20_000 }, (_, i) => `${i},req-${i.toString(36)},${"é".repeat(i % 7)}`).join("\n") + "\n";
    await writeFile(join(dir, "log.csv"), text);
    const collect = async (members: AsyncIterable<Buffer>) => { const parts: Buffer[] = []; for await (const m of members) parts.push(m); return Buffer.concat(parts); };
    const here: GzipMembers = { version: 1, gzBytes: 0, members: [] }, inWorker: GzipMembers = { version: 1, gzBytes: 0, members: [] };
    const expected = await collect(gzipInMembers([Buffer.from(text)], here, 32 * 1024));
    const got = await collect(gzipFileInWorker(join(dir, "log.csv"), inWorker, 32 * 1024));
    expect(got.equals(expected)).toBe(true);
    expect(inWorker).toEqual(here);
    expect(inWorker.members.length).toBeGreaterThan(5);
    expect(gunzipSync(got).toString()).toBe(text);
    await expect(collect(gzipFileInWorker(join(dir, "missing.csv"), { version: 1, gzBytes: 0, members: [] }))).rejects.toThrow(/missing\.csv/);
  });

  it("keeps a line longer than a member whole, whatever the chunk sizes", async () => {
    const text = `short\n${"L".repeat(5000)}\nafter\n${"M".repeat(2100)}`;
    for (const size of [7, 1000, text.length]) {
      const table: GzipMembers = { version: 1, gzBytes: 0, members: [] };
      const parts: Buffer[] = [];
      const chunks = Array.from({ length: Math.ceil(text.length / size) }, (_, i) => Buffer.from(text.slice(i * size, (i + 1) * size)));
      for await (const member of gzipInMembers(chunks, table, 1024)) parts.push(member);
      expect(gunzipSync(Buffer.concat(parts)).toString()).toBe(text);
      expect(table.members.map(([, , , uLength]) => uLength)).toEqual([5006 + 1, 6 + 2100]);
    }
  });
});
