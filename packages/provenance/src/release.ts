import { stat } from "node:fs/promises";
import { join } from "node:path";
import { STATE_FILES, readReleases, type ReleaseRecord } from "@recsys/deploy";
import { brokenLink, okLink, type Link } from "./link.ts";

/** What a response (or a release) claims served it: the hashes the release must agree with. */
export interface ServedBy { release: string; modelHash: string; dataHash: string; commit: string }

/**
 * The release link: the release id is in `STATE/releases.jsonl`, with how it was decided, and
 * its record names the same model, data and commit as the response. The last record of an id
 * wins (a deploy appends once; an id seen twice is a re-run).
 */
export async function releaseLink(stateDir: string, served: ServedBy): Promise<{ link: Link; record: ReleaseRecord | null }> {
  const path = join(stateDir, STATE_FILES.releases);
  const record = (await readReleases(path)).filter((r) => r.releaseId === served.release).at(-1) ?? null;
  if (!record) return { link: brokenLink("release", `release ${served.release} is not in the history`, path, { expected: served.release, found: "(no record)" }), record };
  const report = join(stateDir, STATE_FILES.reports, `${record.releaseId}.html`);
  const details = {
    releaseId: record.releaseId, verdict: record.verdict, reason: record.reason, decidedAt: record.decidedAt, previousReleaseId: record.previousReleaseId,
    modelDir: record.modelDir, report: (await stat(report).then(() => true, () => false)) ? report : null, evidence: record.evidence,
  };
  for (const key of ["modelHash", "dataHash", "commit"] as const) {
    if (record[key] !== served[key]) return { link: brokenLink("release", `release ${record.releaseId} records another ${key} than the one that served`, path, { expected: served[key], found: record[key] }, details), record };
  }
  const reportText = details.report ? `; report ${details.report}` : "; no canary report";
  return { link: okLink("release", `${record.releaseId} ${record.verdict}: ${record.reason}${reportText}`, path, details), record };
}
