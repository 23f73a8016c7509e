import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildFairnessReport, FAIRNESS_DEFAULTS, MitigationSchema, simulatedWorlds, writeFairnessReport, type FairnessReport } from "../src/index.ts";

const config = { ...FAIRNESS_DEFAULTS, bootstrap: 50, permutations: 50 };
let root: string;
let report: FairnessReport;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "fairness-mitigation-"));
  const { fair } = await simulatedWorlds(root);
  report = await buildFairnessReport({ modelDir: fair.model, dataDir: fair.data, config, seed: 7, mitigation: MitigationSchema.parse("calibration:0.5") });
  await writeFairnessReport(join(root, "out"), report, { inputs: [fair.model, fair.data], force: false });
});
afterAll(() => rm(root, { recursive: true, force: true }));

describe("fairness report with --mitigation calibration", () => {
  it("measures the served lists before and after: calibration improves, nDCG pays, RMSE is untouched", () => {
    const m = report.mitigation!;
    expect(m.lambda).toBe(0.5);
    expect(m.after.overall.calibration).toBeLessThan(m.before.overall.calibration);
    // "before" is what the report measures without the mitigation: the same lists, the same users.
    expect(m.before.overall.calibration).toBeCloseTo(report.overall.calibration, 12);
    expect(m.before.overall.ndcg).toBeCloseTo(report.overall.ndcg, 6);
    expect(m.before.overall.coverage).toBeCloseTo(report.exposure.overall.coverage, 12);
    expect(m.cost.ndcg).toBeCloseTo(m.after.overall.ndcg - m.before.overall.ndcg, 12);
    expect(m.cost.rmse).toBe(0);
    for (const side of [m.before, m.after]) expect(side.groups.gender!.map((g) => g.group)).toEqual(["F", "M"]);
    for (const g of m.after.groups.gender!) expect(g.calibration).toBeLessThan(m.before.groups.gender!.find((b) => b.group === g.group)!.calibration);
  });

  it("shows both sides in report.json and in the HTML, with charts", async () => {
    const json = JSON.parse(await readFile(join(root, "out", "report.json"), "utf8")) as FairnessReport;
    expect(Object.keys(json.mitigation!)).toEqual(expect.arrayContaining(["before", "after", "cost"]));
    const html = await readFile(join(root, "out", "report.html"), "utf8");
    const section = html.slice(html.indexOf("Bias reduction"));
    expect(section).toContain("RECSYS_CALIBRATION=0.5");
    expect(section.match(/<svg/g)!.length).toBeGreaterThanOrEqual(2);
  });

  it("refuses a malformed --mitigation", () => {
    for (const bad of ["calibration", "calibration:0", "calibration:1.5", "balanced:0.5"]) expect(MitigationSchema.safeParse(bad).success).toBe(false);
  });
});
