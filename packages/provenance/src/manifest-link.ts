import { stat } from "node:fs/promises";
import { manifestPath, readManifest, type ReleaseManifest, type ReleaseRecord } from "@recsys/deploy";
import { brokenLink, okLink, type Link } from "./link.ts";
import type { Store } from "./store.ts";

const exists = (path: string) => stat(path).then(() => true, () => false);

/**
 * Where a release's manifest is now: next to releases.jsonl while it exists, else the store's
 * object (a manifest is one file, so its md5 is its store key), else null.
 */
export async function locateManifest(stateDir: string, store: Store, record: ReleaseRecord): Promise<{ path: string; where: string } | null> {
  const local = manifestPath(stateDir, record.releaseId);
  if (await exists(local)) return { path: local, where: local };
  if (record.manifestMd5 && (await store.has(record.manifestMd5))) return { path: store.objectPath(record.manifestMd5), where: `store:${record.manifestMd5}` };
  return null;
}

/**
 * The manifest link: the file's md5 is the one the release recorded (and its replicas' /version
 * showed), and it names the same release, model, data and commit as the record. Releases
 * recorded before manifests existed have none; that is said, not counted as broken.
 */
export async function manifestLink(stateDir: string, store: Store, record: ReleaseRecord | null): Promise<Link> {
  if (!record) return brokenLink("manifest", "no release record to find a manifest for", null);
  const expected = record.manifestMd5;
  if (!expected) return okLink("manifest", `none: release ${record.releaseId} was recorded before release manifests`, null);
  const found = await locateManifest(stateDir, store, record);
  if (!found) return brokenLink("manifest", `manifest of ${record.releaseId} is gone: not in ${stateDir} and not in the store`, store.root, { expected, found: "(nowhere)" });
  const { manifest, md5 } = await readManifest(found.path);
  const path = found.where;
  if (md5 !== expected) return brokenLink("manifest", "manifest changed since the release", path, { expected, found: md5 });
  if (!manifest) return brokenLink("manifest", "not a valid release manifest", path);
  const disagree = mismatch(manifest, record);
  if (disagree) return brokenLink("manifest", `manifest names another ${disagree.what} than the release record`, path, disagree, { ...manifest });
  return okLink("manifest", describe(md5, manifest), path, { md5, ...manifest });
}

function mismatch(m: ReleaseManifest, r: ReleaseRecord): { what: string; expected: string; found: string } | null {
  const pairs: Array<[string, string, string]> = [
    ["release id", r.releaseId, m.releaseId], ["modelHash", r.modelHash, m.model.modelHash], ["dataHash", r.dataHash, m.data.md5], ["commit", r.commit, m.git.commit],
  ];
  const bad = pairs.find(([, want, got]) => want !== got);
  return bad ? { what: bad[0], expected: bad[1], found: bad[2] } : null;
}

function describe(md5: string, m: ReleaseManifest): string {
  const tree = m.git.dirty === null ? "tree state unknown" : m.git.dirty ? `DIRTY tree${m.git.allowDirty ? " (--allow-dirty)" : ""}` : "clean tree";
  const params = Object.entries(m.params).map(([k, v]) => `${k}=${v}`).join(" ");
  const ci = m.ci ? `; CI pipeline ${m.ci.pipelineId ?? "?"} ${m.ci.jobUrl ?? ""}`.trimEnd() : "";
  return `${md5.slice(0, 12)} ${m.git.commit.slice(0, 12)} on ${m.git.branch ?? "(no branch)"}, ${tree}; deployed by ${m.deployedBy} at ${m.deployedAt}; ${params}${ci}`;
}
