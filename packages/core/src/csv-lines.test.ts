import { afterAll, describe, expect, it } from "vitest";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readCsvLines } from "./csv-lines.ts";

const root = await mkdtemp(join(tmpdir(), "core-csv-"));
afterAll(() => rm(root, { recursive: true, force: true }));

async function rows(text: string): Promise<string[][]> {
  const path = join(root, "f.csv");
  await writeFile(path, text);
  const out: string[][] = [];
  await readCsvLines(path, ["a", "b", "c"], (f) => out.push(f));
  return out;
}

describe("readCsvLines", () => {
  it("reads plain and quoted fields, CRLF, a missing final newline and blank lines", async () => {
    expect(await rows('a,b,c\r\n1,x,2\r\n\n3,"y,""z""",\n4,"",5')).toEqual([["1", "x", "2"], ["3", 'y,"z"', ""], ["4", "", "5"]]);
  });

  it("rejects a wrong header or field count with the file and line", async () => {
    await expect(rows("a,b\n1,2\n")).rejects.toMatchObject({ code: "RECSYS_BAD_DATASET", message: expect.stringMatching(/f\.csv:1: header/) });
    await expect(rows("a,b,c\n1,2,3\n1,2\n")).rejects.toMatchObject({ message: expect.stringMatching(/f\.csv:3: expected 3 fields, found 2/) });
  });
});
