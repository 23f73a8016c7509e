import { rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { writeDirAtomic } from "@recsys/core";
import { runExperiment, type FeedbackReport } from "./experiment.ts";
import type { ExperimentOptions } from "./options.ts";
import { reportHtml } from "./html.ts";

export const REPORT_FILES = { json: "report.json", html: "report.html" } as const;

/**
 * Runs the experiment and writes OUT/report.json and OUT/report.html. Everything happens inside
 * the output's temp sibling (core's writeDirAtomic): the worlds and datasets of the runs are
 * made there and removed before it is renamed into place, so an interrupted or failed run leaves
 * nothing behind and an earlier report stays whole. `outDir` follows core's output rules: new,
 * empty or an earlier report; a foreign folder only with `force`.
 *
 *     const report = await simulateFeedback("reports/feedback", { rounds: 10 }, { onProgress: (t) => progress.update(t) });
 */
export async function simulateFeedback(outDir: string, options: ExperimentOptions, io: { force?: boolean; onProgress?: (text: string) => void } = {}): Promise<FeedbackReport> {
  let report: FeedbackReport | undefined;
  await writeDirAtomic(outDir, async (tmp) => {
    const work = join(tmp, "work");
    report = await runExperiment(options, work, io.onProgress);
    await rm(work, { recursive: true, force: true });
    io.onProgress?.("feedback: writing the report");
    await writeFile(join(tmp, REPORT_FILES.json), JSON.stringify(report, null, 2) + "\n");
    await writeFile(join(tmp, REPORT_FILES.html), await reportHtml(report));
  }, { kind: "report", force: io.force });
  return report!;
}
