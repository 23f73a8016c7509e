import { unwatchFile, watchFile } from "node:fs";
import { basename, join, resolve } from "node:path";
import { loadRecModel, MODEL_META_FILE, type RecModel } from "@recsys/artifact";
import { LruCache } from "./lru-cache.ts";
import { recommend } from "./recommend.ts";
import { servingIndex } from "./serving-index.ts";

/** A cached answer: the response body and its log fields, formatted once. */
export interface CachedAnswer {
  body: string;
  result: string;
  /** `result` as the log line's bytes: every answer from the cache copies them instead of encoding the ids again. */
  resultBytes: Buffer;
  exploreSlots: string;
  exploreCount: number;
}

/**
 * Everything one model serves with. A request reads the holder's state once and uses only
 * that object, so a swap (one assignment) never mixes two models in a response, and the
 * cache, which belongs to the state, is dropped with its model.
 */
export interface ServingState {
  model: RecModel;
  dir: string;
  /** The model directory's name: what operators call the model. */
  modelId: string;
  loadedAt: string;
  cache: LruCache<number, CachedAnswer>;
  /** The UTC day the cached answers were drawn for (exploration changes daily). */
  cacheDay: string;
}

export interface ModelHolder {
  current(): ServingState | null;
  /**
   * Loads and validates `dir` (default: the current directory) off to the side, then swaps it
   * in. Loads run one at a time; a bad artifact rejects with its ArtifactError and the old
   * model keeps serving.
   */
  load(dir?: string): Promise<ServingState>;
  /** Reloads whenever the current directory's model.json changes (polling, survives renames). */
  watch(intervalMs: number, onResult: (outcome: { state?: ServingState; error?: Error }) => void): void;
  close(): void;
}

export function createModelHolder(initialDir: string, cacheSize: number, onSwap: (state: ServingState) => void): ModelHolder {
  let state: ServingState | null = null;
  let queue: Promise<unknown> = Promise.resolve();
  let watched: string | null = null;
  let watchOptions: { intervalMs: number; onResult: (o: { state?: ServingState; error?: Error }) => void } | null = null;

  async function loadNow(dir: string): Promise<ServingState> {
    const model = await loadRecModel(dir);
    // Build the serving index and warm the scoring code before the swap, not on a request.
    servingIndex(model);
    if (model.nUsers > 0) recommend(model, model.meta.userIds[0]!);
    const next: ServingState = {
      model, dir, modelId: basename(resolve(dir)), loadedAt: new Date().toISOString(),
      cache: new LruCache(cacheSize), cacheDay: "",
    };
    state = next;
    onSwap(next);
    if (watchOptions) rewatch(dir);
    return next;
  }

  function rewatch(dir: string): void {
    const path = join(dir, MODEL_META_FILE);
    if (watched === path) return;
    if (watched) unwatchFile(watched);
    watched = path;
    watchFile(path, { interval: watchOptions!.intervalMs, persistent: false }, (curr, prev) => {
      if (curr.mtimeMs === prev.mtimeMs && curr.ino === prev.ino) return;
      if (curr.nlink === 0) return; // mid-swap of the directory: wait for the new file
      const onResult = watchOptions!.onResult;
      holder.load(dir).then((s) => onResult({ state: s }), (error: Error) => onResult({ error }));
    });
  }

  const holder: ModelHolder = {
    current: () => state,
    load(dir = state?.dir ?? initialDir) {
      const run = queue.then(() => loadNow(dir));
      queue = run.catch(() => undefined);
      return run;
    },
    watch(intervalMs, onResult) {
      watchOptions = { intervalMs, onResult };
      rewatch(state?.dir ?? initialDir);
    },
    close() {
      if (watched) unwatchFile(watched);
      watched = null;
      watchOptions = null;
    },
  };
  return holder;
}
