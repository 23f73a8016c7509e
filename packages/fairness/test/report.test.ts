import { md5File } from "@recsys/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cp, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildFairnessReport, FAIRNESS_DEFAULTS, fairnessGate, simulatedWorlds, writeFairnessReport, type FairnessReport } from "../src/index.ts";

const config = { ...FAIRNESS_DEFAULTS, bootstrap: 300, permutations: 300 };
let root: string;
let worlds: Awaited<ReturnType<typeof simulatedWorlds>>;
const reports: Partial<Record<"fair" | "planted", FairnessReport>> = {};

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "fairness-report-"));
  worlds = await simulatedWorlds(root);
  for (const k of ["fair", "planted"] as const) reports[k] = await buildFairnessReport({ modelDir: worlds[k].model, dataDir: worlds[k].data, config, seed: 7 });
});
afterAll(() => rm(root, { recursive: true, force: true }));

const gender = (r: FairnessReport) => r.quality.find((q) => q.attribute === "gender")!;

describe("fairness report on a simulated world", () => {
  it("finds the groups and the dataset balance", () => {
    const r = reports.fair!;
    expect(r.attributes.map((a) => a.name)).toEqual(["gender", "age", "age_gender", "occupation"]);
    expect(r.attributes[0]!.groups).toEqual(["F", "M"]);
    const bands = FAIRNESS_DEFAULTS.ageBands.map((b) => b.label);
    expect(r.attributes[1]!.groups.every((g) => bands.includes(g))).toBe(true);
    const byGender = r.balance.groups.gender!;
    // The simulator leaves 0.5% of users out of the side file: their ratings belong to no group.
    const grouped = byGender.reduce((s, g) => s + g.ratings, 0);
    expect(grouped).toBeLessThanOrEqual(r.data.ratings);
    expect(grouped).toBeGreaterThan(0.98 * r.data.ratings);
    expect(byGender.every((g) => g.watchMinutes > 0 && g.activity.median > 0)).toBe(true);
    expect(r.balance.items.longTailShare).toBeGreaterThan(0);
    expect(r.balance.items.curve.at(-1)!.interactionShare).toBeCloseTo(1, 10);
  });

  it("detects a planted disparity (p < 0.05) and does not flag a world without one", () => {
    const planted = gender(reports.planted!).disparities.rmse!;
    expect(planted.highest).toBe("F");
    expect(planted.pValue).toBeLessThan(0.05);
    expect(reports.planted!.requirements.find((q) => q.attribute === "gender" && q.metric === "rmse")!.status).toBe("fail");
    expect(reports.planted!.passed).toBe(false);
    // Within every activity stratum too: the disparity is not a profile-size effect.
    for (const s of gender(reports.planted!).strata) expect(s.metrics.rmse!.pValue).toBeLessThan(0.05);
    for (const m of ["rmse", "ndcg"] as const) expect(gender(reports.fair!).disparities[m]!.pValue).toBeGreaterThan(0.05);
    expect(reports.fair!.passed).toBe(true);
  });

  it("measures what is served per group: calibration, long-tail exposure, coverage, Gini", () => {
    const r = reports.fair!;
    expect(r.overall.calibration).toBeGreaterThan(0);
    expect(r.overall.tailExposure).toBeGreaterThanOrEqual(0);
    expect(r.overall.tailExposure).toBeLessThanOrEqual(1);
    expect(r.exposure.overall.coverage).toBeGreaterThan(0);
    expect(r.exposure.overall.gini).toBeGreaterThan(0);
    expect(r.exposure.groups.gender!.map((g) => g.group)).toEqual(["F", "M"]);
    expect(gender(r).disparities.calibration!.judged).toEqual(["F", "M"]);
  });

  it("names small groups and does not judge them; CIs contain the point estimates", () => {
    const occupation = reports.fair!.quality.find((q) => q.attribute === "occupation")!;
    expect(occupation.notJudged.rmse!.length).toBeGreaterThan(0);
    for (const g of occupation.groups.filter((x) => occupation.notJudged.rmse!.includes(x.group))) expect(g.metrics.rmse!.ci).toBeNull();
    for (const r of [reports.fair!, reports.planted!]) {
      for (const q of r.quality) {
        for (const d of Object.values(q.disparities)) {
          if (!d) continue;
          expect(d.differenceCi[0]).toBeLessThanOrEqual(d.difference + 1e-12);
          expect(d.differenceCi[1]).toBeGreaterThanOrEqual(d.difference - 1e-12);
        }
      }
    }
  });

  it("writes the same bytes for the same seed, a self-contained HTML with SVG charts, and refuses a foreign --out", async () => {
    const a = join(root, "out-a"), b = join(root, "out-b");
    await writeFairnessReport(a, reports.planted!);
    await writeFairnessReport(b, await buildFairnessReport({ modelDir: worlds.planted.model, dataDir: worlds.planted.data, config, seed: 7 }));
    expect(await readFile(join(b, "report.json"))).toEqual(await readFile(join(a, "report.json")));
    const html = await readFile(join(a, "report.html"), "utf8");
    expect(html.match(/<svg/g)!.length).toBeGreaterThanOrEqual(10);
    expect(html).not.toMatch(/https?:\/\/|<script|<link/i);
    await writeFairnessReport(a, reports.fair!); // its own earlier report: replaced
    expect(JSON.parse(await readFile(join(a, "report.json"), "utf8")).passed).toBe(true);
    const foreign = join(root, "foreign");
    await cp(worlds.fair.data, foreign, { recursive: true });
    await expect(writeFairnessReport(foreign, reports.fair!)).rejects.toMatchObject({ code: "RECSYS_OUTPUT_REFUSED", exitCode: 2 });
  });

  it("takes held-out ratings from --holdout instead of the model's split", async () => {
    const r = await buildFairnessReport({ modelDir: worlds.fair.model, dataDir: worlds.fair.data, holdoutDir: worlds.planted.data, config, seed: 7 });
    expect(r.heldOut.source).toBe(`--holdout ${worlds.planted.data}`);
    expect(r.heldOut.ratings).toBe(reports.planted!.data.ratings);
    // The planted world's F stars are noise: judged against them, the fair model fails for F.
    expect(gender(r).disparities.rmse!.highest).toBe("F");
    expect(gender(r).disparities.rmse!.pValue).toBeLessThan(0.05);
  });

  it("states plainly when the dataset has no demographics and keeps the item side", async () => {
    const bare = join(root, "bare-data");
    await cp(worlds.fair.data, bare, { recursive: true });
    const ids = (await readFile(join(bare, "users.jsonl"), "utf8")).trim().split("\n").map((l) => JSON.stringify({ user_id: JSON.parse(l).user_id }));
    await writeFile(join(bare, "users.jsonl"), ids.join("\n") + "\n");
    // A dataset as ingest would write it without side information: the manifest names the new bytes.
    const manifest = JSON.parse(await readFile(join(bare, "manifest.json"), "utf8"));
    manifest.files["users.jsonl"] = await md5File(join(bare, "users.jsonl"));
    await writeFile(join(bare, "manifest.json"), JSON.stringify(manifest));
    const r = await buildFairnessReport({ modelDir: worlds.fair.model, dataDir: bare, config, seed: 7 });
    expect(r.demographics).toBe(false);
    expect(r.statement).toMatch(/no user demographics/);
    expect(r.quality).toEqual([]);
    expect(r.requirements).toEqual([]);
    expect(r.balance.items.interactions).toBe(reports.fair!.balance.items.interactions);
  });

  it("gates a release on the requirements alone: the planted model refused with its evidence, the fair one passed", async () => {
    const planted = await fairnessGate({ modelDir: worlds.planted.model, dataDir: worlds.planted.data, config, seed: 7 });
    expect(planted.passed).toBe(false);
    const rmse = planted.requirements.find((q) => q.attribute === "gender" && q.metric === "rmse")!;
    // The same statistics (same seed, same streams) as the full report's requirement.
    expect(rmse).toEqual(reports.planted!.requirements.find((q) => q.attribute === "gender" && q.metric === "rmse"));
    // Every failed requirement is in the reason (the planted bias can also show in nDCG); the RMSE one with its evidence.
    expect(planted.reason).toMatch(/^fairness: .*gender rmse: F vs M difference [0-9.]+ \[95% CI [0-9.]+, [0-9.]+\], ratio [0-9.]+, p [0-9.e-]+ \(requirement difference <= 0\.1, alpha 0\.05\)/);
    const fair = await fairnessGate({ modelDir: worlds.fair.model, dataDir: worlds.fair.data, config, seed: 7 });
    expect(fair.passed).toBe(true);
    expect(fair.requirements.map((q) => q.status)).toEqual(reports.fair!.requirements.map((q) => q.status));
  });
});
