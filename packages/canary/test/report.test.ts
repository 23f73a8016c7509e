import { describe, expect, it } from "vitest";
import { mkdtemp, readFile, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { analyzeCanary, formatCanaryText, renderCanaryReport, writeCanaryReport } from "../src/index.ts";
import { syntheticTraffic } from "./synthetic.ts";

const t = syntheticTraffic([{ id: "c<1>", share: 0.2, errorRate: 0.05 }, { id: "s1", share: 0.8 }], 3000);
const a = analyzeCanary({ requests: t.requests, watches: t.watches, canary: "c<1>", windowStartMs: t.startMs, windowEndMs: t.endMs });

describe("reports", () => {
  it("renders one self-contained page: three inline charts, verdict, escaped names", async () => {
    const html = await renderCanaryReport(a);
    expect(html.match(/<svg /g)).toHaveLength(3);
    expect(html).toContain("log scale");
    expect(html).toContain("ROLLBACK");
    expect(html).toContain("c&#60;1&#62;");
    expect(html).not.toContain("c<1>");
    expect(html).not.toMatch(/<script|<link|@import|src=/);
    expect(html).not.toMatch(/NaN|undefined|Infinity/);
  });

  it("writes the report atomically, leaving no temp file", async () => {
    const dir = await mkdtemp(join(tmpdir(), "canary-report-"));
    try {
      await writeCanaryReport(join(dir, "r.html"), a);
      expect(await readdir(dir)).toEqual(["r.html"]);
      expect(await readFile(join(dir, "r.html"), "utf8")).toContain("<svg");
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("prints a text table with the verdict and reasons", () => {
    const text = formatCanaryText(a);
    expect(text).toMatch(/^release\s+requests\s+success\s+p50\s+p99/m);
    expect(text).toMatch(/^verdict: ROLLBACK$/m);
    expect(text).toMatch(/^ {2}- availability: .*FAILED$/m);
  });
});
