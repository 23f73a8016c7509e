import { appendFile, mkdtemp, open, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { gunzipSync } from "node:zlib";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { gzipInMembers, MEMBERS_SUFFIX, openResponseLog, type GzipMembers } from "@recsys/api";
import { TELEMETRY_HEADER } from "@recsys/core";
import { candidateSegments } from "./response-index.ts";
import { findResponse, responseFiles } from "./responses.ts";

const temps: string[] = [];
afterEach(async () => {
  await Promise.all(temps.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

const line = (id: string) => `2026-12-01T05:26:00.291000,${id},2,200,0.412,r7,c0ffee,m1,d1,movie+1+1999|movie+2+2001,1\n`;
const ids = (prefix: string, from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => line(`${prefix}-${(from + i).toString(36)}`)).join("");

describe("response index", () => {
  it("points an API request id at the files whose prefix and counter range hold it, and keeps up as logs grow", async () => {
    const dir = await mkdtemp(join(tmpdir(), "prov-index-"));
    temps.push(dir);
    const header = TELEMETRY_HEADER.join(",") + "\n";
    const a = join(dir, "responses-20261201.csv"), b = join(dir, "responses-20261201-1.csv"), c = join(dir, "responses-20261202.csv");
    await writeFile(a, header + ids("aaaaaaaa", 1, 500));
    await writeFile(b, header + ids("aaaaaaaa", 501, 900) + ids("bbbbbbbb", 1, 10));
    await writeFile(c, header + ids("bbbbbbbb", 11, 20));
    const index = join(dir, "index", "responses.json");
    const files = [a, b, c];
    const candidateFiles = async (id: string) => (await candidateSegments(index, files, id)).map((seg) => seg.file);
    expect(await candidateFiles("aaaaaaaa-" + (700).toString(36))).toEqual([b]);
    expect(await candidateFiles("bbbbbbbb-f")).toEqual([c]);
    expect(await candidateFiles("cccccccc-1")).toEqual([]);
    // Appended lines (a partial last line included) are read on the next lookup.
    await appendFile(c, ids("bbbbbbbb", 21, 30) + "2026-12-02T00:00:00.000000,bbbbbbbb-1f");
    expect(await candidateFiles("bbbbbbbb-" + (25).toString(36))).toEqual([c]);
    // An id a client sent (not the API's own form) marks its file: it is always searched.
    await appendFile(c, ",2,200,0.4,r7,c,m,d,x,\n" + line("client-token.42"));
    expect(await candidateFiles("client-token.42")).toEqual([c]);
    // A file that shrank (replaced) is read again from the start.
    await writeFile(a, header + ids("dddddddd", 1, 3));
    expect(await candidateFiles("dddddddd-2")).toEqual([a, c]);
    expect(await candidateFiles("aaaaaaaa-1")).toEqual([c]);
  });

  it("reads about one MiB of a large log to find an id, wherever it is", async () => {
    const dir = await mkdtemp(join(tmpdir(), "prov-index-"));
    temps.push(dir);
    const file = join(dir, "responses-20261201.csv");
    await writeFile(file, TELEMETRY_HEADER.join(",") + "\n" + ids("aaaaaaaa", 1, 40_000));
    const id = "aaaaaaaa-" + (31_337).toString(36);
    const segments = await candidateSegments(join(dir, "index.json"), [file], id);
    expect(segments).toHaveLength(1);
    expect(segments[0]!.end - segments[0]!.start).toBeLessThanOrEqual((1 << 20) + 200);
    const { chosen } = await findResponse(segments, { requestId: id });
    expect(chosen.requestId).toBe(id);
    expect(chosen.where).toMatch(/responses-20261201\.csv@\d+$/);
  });
});

describe("rotated, gzipped response logs", () => {
  it("traces a response that sits in a rotated .csv.gz, by request id and by user and time", async () => {
    const dir = await mkdtemp(join(tmpdir(), "prov-gz-"));
    temps.push(dir);
    const log = await openResponseLog({ dir, flushMs: 10_000, maxBytes: 4096 });
    const t0 = Date.parse("2026-12-01T10:00:00Z");
    for (let i = 1; i <= 200; i++) {
      log.append({
        timeMs: t0 + i * 1000, requestId: `aaaaaaaa-${i.toString(36)}`, userId: String(i % 7), status: 200, latencyMs: 1.5,
        release: "r7", commit: "c0ffee", modelHash: "m1", dataHash: "d1", result: `movie+${i}+1999|movie+2+2001`, exploreSlots: "",
      });
      if (i % 20 === 0) await log.flush(); // several files, so rotation (and compression) happens
    }
    await log.close();
    const files = await responseFiles([dir]);
    expect(files.filter((f) => f.endsWith(".csv.gz")).length).toBeGreaterThan(1);
    expect(files.filter((f) => f.endsWith(".csv"))).toHaveLength(1); // only the file still being written
    // Every rotated file came with its member table.
    const names = await readdir(dir);
    expect(files.length).toBe(names.filter((n) => n.startsWith("responses-") && !n.endsWith(MEMBERS_SUFFIX)).length);
    for (const f of files.filter((f) => f.endsWith(".gz"))) expect(names).toContain(`${f.slice(dir.length + 1)}${MEMBERS_SUFFIX}`);

    const id = `aaaaaaaa-${(5).toString(36)}`;
    const segments = await candidateSegments(join(dir, "index.json"), files, id);
    expect(segments.map((s) => s.file)).toEqual([files[0]]);
    const { chosen } = await findResponse(segments, { requestId: id });
    expect(chosen).toMatchObject({ requestId: id, userId: "5", release: "r7", ids: ["movie+5+1999", "movie+2+2001"] });
    expect(chosen.where).toMatch(/\.csv\.gz@\d+$/);
    // Indexed once, the gz is not read again for the index: a second lookup agrees.
    expect(await candidateSegments(join(dir, "index.json"), files, id)).toEqual(segments);

    const atUs = (t0 + 12_500) * 1000;
    const { chosen: atTime } = await findResponse(files, { userId: "5", atUs });
    expect(atTime.requestId).toBe(`aaaaaaaa-${(12).toString(36)}`);
    expect(atTime.where).toMatch(/\.csv\.gz:\d+$/);
  });

  it("inflates only the gzip member that holds the id when the API wrote the log in members", async () => {
    const dir = await mkdtemp(join(tmpdir(), "prov-gz-"));
    temps.push(dir);
    const plain = Buffer.from(TELEMETRY_HEADER.join(",") + "\n" + ids("aaaaaaaa", 1, 40_000));
    const gz = join(dir, "responses-20261201.csv.gz");
    const table: GzipMembers = { version: 1, gzBytes: 0, members: [] };
    const parts: Buffer[] = [];
    for await (const member of gzipInMembers([plain], table)) parts.push(member);
    await writeFile(gz, Buffer.concat(parts));
    // An ordinary gzip file to every other reader.
    expect(gunzipSync(await readFile(gz)).equals(plain)).toBe(true);
    expect(table.members.length).toBeGreaterThanOrEqual(3);
    const files = await responseFiles([dir]);
    const index = join(dir, "index.json");
    const deep = "aaaaaaaa-" + (39_000).toString(36);

    // Without the table (a .gz from elsewhere, or a crash before the table was written): read from the start.
    const whole = await candidateSegments(index, files, deep);
    expect(whole).toEqual([expect.not.objectContaining({ gz: expect.anything() })]);
    expect((await findResponse(whole, { requestId: deep })).chosen.requestId).toBe(deep);

    await writeFile(`${gz}${MEMBERS_SUFFIX}`, JSON.stringify(table));
    await rm(index);
    const [last] = await candidateSegments(index, files, deep);
    const lastMember = table.members.at(-1)!;
    expect(last).toMatchObject({ gz: [lastMember[0], lastMember[0] + lastMember[1]], start: lastMember[2] });
    // Garbage in the first member (same size, so the index stays current) does not matter to an
    // id in the last one: the lookup never inflates what comes before its member.
    const fh = await open(gz, "r+");
    await fh.write(Buffer.alloc(1000, 0x55), 0, 1000, 100);
    await fh.close();
    const { chosen } = await findResponse([last!], { requestId: deep });
    expect(chosen.requestId).toBe(deep);
    expect(Number(/\.csv\.gz@(\d+)$/.exec(chosen.where)?.[1])).toBeGreaterThanOrEqual(lastMember[2]);
  });

  it("refuses a corrupt .csv.gz with a coded error", async () => {
    const dir = await mkdtemp(join(tmpdir(), "prov-gz-"));
    temps.push(dir);
    await writeFile(join(dir, "responses-20261201.csv.gz"), "not gzip");
    const files = await responseFiles([dir]);
    await expect(candidateSegments(join(dir, "index.json"), files, "aaaaaaaa-1")).rejects.toMatchObject({ code: "PROVENANCE_BAD_INPUT" });
  });
});
