import { join } from "node:path";
import { STATE_FILES, readReleases } from "@recsys/deploy";
import { notFound } from "./errors.ts";
import type { Link } from "./link.ts";
import { servedChain, type ChainSources } from "./trace.ts";

export interface ReleaseCheck { releaseId: string; links: Link[]; ok: boolean }

/**
 * Re-computes every hash of one release (or of every release in the history, `"all"`): its
 * model and data against what the release recorded, and its commit's presence on a branch.
 * An unknown release id is exit 2.
 *
 *     const [check] = await verifyReleases("r20261201-054053-f5efc4d6", { stateDir, store, repoDir: "." });
 *     check.ok // false after a tensor was edited
 */
export async function verifyReleases(release: string, sources: ChainSources): Promise<ReleaseCheck[]> {
  const records = await readReleases(join(sources.stateDir, STATE_FILES.releases));
  // The last record of an id wins, as in the trace.
  const byId = new Map(records.map((r) => [r.releaseId, r]));
  const chosen = release === "all" ? [...byId.values()] : byId.has(release) ? [byId.get(release)!] : [];
  if (chosen.length === 0) {
    const where = join(sources.stateDir, STATE_FILES.releases);
    throw release === "all" ? notFound(`no releases in ${where}`, "pass the platform's --state DIR") : notFound(`release ${release} is not in ${where}`, "check the id, or pass --state DIR");
  }
  const out: ReleaseCheck[] = [];
  for (const r of chosen) {
    const links = await servedChain({ release: r.releaseId, modelHash: r.modelHash, dataHash: r.dataHash, commit: r.commit }, sources);
    out.push({ releaseId: r.releaseId, links, ok: links.every((l) => l.ok) });
  }
  return out;
}
