import { join } from "node:path";
import { brokenLink, okLink, type Link } from "./link.ts";
import { candidateSegments } from "./response-index.ts";
import { commitLink } from "./commit.ts";
import { locate } from "./file-set.ts";
import { manifestLink } from "./manifest-link.ts";
import { releaseLink, type ServedBy } from "./release.ts";
import { findResponse, type ResponseLine, type ResponseQuery } from "./responses.ts";
import type { Store } from "./store.ts";
import { verifyData, verifyModel } from "./verify.ts";

export interface ChainSources {
  /** The platform's state directory: releases.jsonl, reports/. */
  stateDir: string;
  store: Store;
  /** The git repository the releases were built from. */
  repoDir: string;
}

export interface Trace {
  response: ResponseLine;
  /** Other lines with the same request id (a retry answered elsewhere), oldest first. */
  otherAttempts: ResponseLine[];
  /** response -> release -> manifest -> model -> data -> commit. */
  links: Link[];
  ok: boolean;
}

/**
 * Explains one past answer: finds it in the response logs, then verifies every link from it to
 * the bytes and the commit that produced it. Broken links are part of the result (with what
 * was expected and found), never an exception: the chain is evidence, shown whole.
 *
 *     const t = await traceResponse(files, { requestId: "7234a07d-1" }, { stateDir, store, repoDir: "." });
 *     process.stdout.write(formatLinks(t.links));
 */
export async function traceResponse(files: readonly string[], query: ResponseQuery, sources: ChainSources): Promise<Trace> {
  // An id the index rules out of a file is not looked for there: a lookup reads one or two files, not all.
  const candidates = "requestId" in query ? await candidateSegments(join(sources.store.root, "index", "responses.json"), files, query.requestId) : files;
  const { chosen, all } = await findResponse(candidates, query);
  const links = [responseLink(chosen), ...(await servedChain(chosen, sources))];
  return { response: chosen, otherAttempts: all.filter((r) => r !== chosen), links, ok: links.every((l) => l.ok) };
}

/**
 * release -> manifest -> model -> data -> commit for what served an answer (or what a release recorded):
 * hashes are re-computed from the model and data directories while they exist, else from the
 * store's copies.
 */
export async function servedChain(served: ServedBy, sources: ChainSources): Promise<Link[]> {
  const { link: release, record } = await releaseLink(sources.stateDir, served);
  const modelFiles = await locate(sources.store, "models", served.modelHash, record?.modelDir ?? null);
  const model = modelFiles
    ? await verifyModel(modelFiles, served.modelHash)
    : brokenLink("model", `model ${served.modelHash.slice(0, 12)} is gone: ${record?.modelDir ?? "no release record"} does not exist and the store has no copy`, sources.store.root, { expected: served.modelHash, found: "(nowhere)" });
  const dataFiles = await locate(sources.store, "data", served.dataHash, null);
  const data = dataFiles
    ? await verifyData(dataFiles, served.dataHash)
    : brokenLink("data", `dataset ${served.dataHash.slice(0, 12)} is not in the store (deploy with --data DIR to keep it)`, sources.store.root, { expected: served.dataHash, found: "(nowhere)" });
  return [release, await manifestLink(sources.stateDir, sources.store, record), model, data, await commitLink(sources.repoDir, served.commit)];
}

function responseLink(r: ResponseLine): Link {
  const explore = new Set(r.exploreSlots);
  const ids = r.ids.map((id, i) => (explore.has(i) ? `${id}*` : id)).join(",");
  const what = r.status === 200 ? `${r.ids.length} ids (* = exploration): ${ids}` : `status ${r.status}: ${r.result}`;
  return okLink("response", `${r.time} user ${r.userId} request ${r.requestId}, ${r.latencyMs} ms, release ${r.release}; ${what}`, r.where, { ...r });
}
