import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { checkOutput, writeDirAtomic } from "@recsys/core";
import type { FairnessReport } from "./report.ts";
import { reportHtml } from "./html.ts";

export const REPORT_FILES = { json: "report.json", html: "report.html" } as const;

/** What `--out` must never be: the model and data the report reads. */
export interface ReportOutput {
  inputs?: ReadonlyArray<string | undefined>;
  /** Replace a folder recsys did not write (never an input, a device or a link). */
  force?: boolean;
}

/**
 * Refuses an --out that is neither new, empty nor an earlier report (core's ownership rule, exit
 * 2). Called again by writeFairnessReport; the CLI calls it first so a bad --out fails before
 * minutes of work.
 */
export async function checkReplaceable(outDir: string, output: ReportOutput = {}): Promise<void> {
  await checkOutput(outDir, "dir", { kind: "report", ...output });
}

/**
 * Writes report.json and report.html into `outDir` atomically (a temp sibling renamed into
 * place, marked as a report), replacing only an earlier report.
 *
 *     await writeFairnessReport("reports/fairness", await buildFairnessReport(input));
 */
export async function writeFairnessReport(outDir: string, report: FairnessReport, output: ReportOutput = {}): Promise<void> {
  const html = await reportHtml(report);
  await writeDirAtomic(outDir, async (tmp) => {
    await writeFile(join(tmp, REPORT_FILES.json), JSON.stringify(report, null, 2) + "\n");
    await writeFile(join(tmp, REPORT_FILES.html), html);
  }, { kind: "report", ...output });
}
