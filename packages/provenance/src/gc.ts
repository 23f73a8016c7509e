import { join } from "node:path";
import { STATE_FILES, readPlatformState, readReleases } from "@recsys/deploy";
import type { RefKind, Store } from "./store.ts";

export interface GcOptions {
  /** Keep only the last N releases of the history (default: all of them). */
  keepLast?: number;
  /** Report what would go, remove nothing. */
  dryRun?: boolean;
  /**
   * Objects younger than this are kept whatever the history says: a put in progress has stored
   * a directory's files before its listing and ref, which would otherwise look unused. Default 1 h.
   */
  graceMs?: number;
  now?: () => number;
}

export interface GcResult {
  /** Releases whose model, data and manifest stay, oldest first. */
  kept: string[];
  /** Releases a running platform serves (state.json): kept even when older than the last N. */
  running: string[];
  removed: Array<{ key: string; bytes: number }>;
  removedRefs: string[];
  freedBytes: number;
  dryRun: boolean;
}

/**
 * Removes from the store what no kept release needs: every release of the history, or the last
 * `keepLast`, plus whatever the running platform serves (never removed). A release needs its
 * model and data (the `.dir` listings and every file they name) and its manifest; refs of
 * releases no longer kept go too.
 *
 *     const r = await collectGarbage("runs/platform", store, { keepLast: 5, dryRun: true });
 *     r.freedBytes // what a real run would free
 */
export async function collectGarbage(stateDir: string, store: Store, options: GcOptions = {}): Promise<GcResult> {
  const records = await readReleases(join(stateDir, STATE_FILES.releases));
  const byId = new Map(records.map((r) => [r.releaseId, r]));
  const ids = [...byId.keys()];
  const state = await readPlatformState(stateDir);
  const running = state ? [...new Set([state.stable.releaseId, ...state.replicas.map((r) => r.releaseId)])] : [];
  const kept = ids.filter((id, i) => options.keepLast === undefined || i >= ids.length - options.keepLast || running.includes(id));

  const keys = new Set<string>();
  const refs = new Set<string>();
  const need = async (kind: RefKind, id: string) => {
    refs.add(`${kind}/${id}`);
    const ref = await store.ref(kind, id);
    if (!ref) return;
    keys.add(ref.key);
    const listing = ref.key.endsWith(".dir") ? await store.listing(ref.key).catch(() => []) : [];
    for (const e of listing) keys.add(e.md5);
  };
  for (const id of kept) {
    const r = byId.get(id)!;
    await need("models", r.modelHash);
    await need("data", r.dataHash);
    if (r.manifestMd5) keys.add(r.manifestMd5);
  }
  if (state) await need("models", state.stable.modelHash);

  const now = (options.now ?? Date.now)();
  const grace = options.graceMs ?? 3_600_000;
  const removed = (await store.objects()).filter((o) => !keys.has(o.key) && now - o.mtimeMs >= grace).map(({ key, bytes }) => ({ key, bytes }));
  const removedRefs: string[] = [];
  for (const kind of ["models", "data"] as const) {
    for (const id of await store.refIds(kind)) if (!refs.has(`${kind}/${id}`)) removedRefs.push(`${kind}/${id}`);
  }
  if (!options.dryRun) {
    // Refs first: a ref never points at an object that is already gone.
    for (const ref of removedRefs) await store.removeRef(ref.split("/")[0] as RefKind, ref.split("/")[1]!);
    for (const o of removed) await store.remove(o.key);
  }
  return { kept, running, removed, removedRefs, freedBytes: removed.reduce((n, o) => n + o.bytes, 0), dryRun: options.dryRun === true };
}
