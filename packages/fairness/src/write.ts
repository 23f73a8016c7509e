import { readdir, readFile, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { writeDirAtomic } from "@recsys/core";
import { outRefused } from "./errors.ts";
import { REPORT_KIND, type FairnessReport } from "./report.ts";
import { reportHtml } from "./html.ts";

/** Names a directory as one this command wrote, so a later run may replace it and nothing else. */
export const MARKER_FILE = ".recsys-fairness-report";
export const REPORT_FILES = { json: "report.json", html: "report.html", marker: MARKER_FILE } as const;

/**
 * Refuses an --out that exists and is neither empty nor an earlier fairness report. Called again
 * by writeFairnessReport; the CLI calls it first so a bad --out fails before minutes of work.
 */
export async function checkReplaceable(outDir: string): Promise<void> {
  const info = await stat(outDir).catch(() => null);
  if (!info) return;
  if (!info.isDirectory()) throw outRefused(`--out ${outDir}: is a file, not a report directory; choose another path`);
  if ((await readdir(outDir)).length === 0) return;
  const marker = await readFile(join(outDir, MARKER_FILE), "utf8").catch(() => "");
  if (!marker.startsWith(REPORT_KIND)) {
    throw outRefused(`--out ${outDir}: exists and is not a fairness report (no ${MARKER_FILE}); choose a new directory or remove it yourself`);
  }
}

/**
 * Writes report.json, report.html and the marker into `outDir` atomically (a temp sibling
 * renamed into place), replacing only an earlier fairness report.
 *
 *     await writeFairnessReport("reports/fairness", await buildFairnessReport(input));
 */
export async function writeFairnessReport(outDir: string, report: FairnessReport): Promise<void> {
  await checkReplaceable(outDir);
  const html = await reportHtml(report);
  await writeDirAtomic(outDir, async (tmp) => {
    await writeFile(join(tmp, REPORT_FILES.json), JSON.stringify(report, null, 2) + "\n");
    await writeFile(join(tmp, REPORT_FILES.html), html);
    await writeFile(join(tmp, MARKER_FILE), `${REPORT_KIND} v${report.version}: written by 'recsys fairness report'; a later run may replace this directory\n`);
  });
}
