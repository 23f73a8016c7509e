import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { Worker } from "node:worker_threads";
import { RecsysError } from "@recsys/core";
import type { FoldData, FoldJob, FoldResult } from "./fold-job.ts";

export interface FoldPool {
  run(job: FoldJob): Promise<FoldResult>;
  close(): Promise<void>;
}

const WORKER_FILE = fileURLToPath(new URL("./fold-worker.ts", import.meta.url));
// The sources are TypeScript: each worker registers tsx's loader before importing its module.
// Resolved through tsx's package.json "exports" (its ESM entry): the CommonJS one cannot register hooks.
const TSX_API = tsxEsmApi();
const BOOTSTRAP = `import(${JSON.stringify(TSX_API)}).then(({ register }) => { register(); return import(${JSON.stringify(pathToFileURL(WORKER_FILE).href)}); });`;

function tsxEsmApi(): string {
  const require = createRequire(import.meta.url);
  const manifest = require.resolve("tsx/package.json");
  const entry = (require(manifest) as { exports: Record<string, { import: { default: string } }> }).exports["./esm/api"]!.import.default;
  return pathToFileURL(join(dirname(manifest), entry)).href;
}

function shared<T extends Uint32Array | Float32Array | Float64Array | Uint8Array>(a: T): T {
  const ctor = a.constructor as new (buf: SharedArrayBuffer) => T;
  const out = new ctor(new SharedArrayBuffer(a.byteLength));
  out.set(a as never);
  return out;
}

/**
 * `size` worker threads holding the data sets in shared memory (one copy for all), each running
 * one fold job at a time (a job names its data set by index); jobs queue while all are busy.
 * Close it to end the threads.
 *
 *     const pool = createFoldPool(2, [{ ratings, nUsers, nItems, foldOf, rankedUsers }]);
 */
export function createFoldPool(size: number, sets: FoldData[]): FoldPool {
  const data: FoldData[] = sets.map(({ ratings, nUsers, nItems, foldOf, rankedUsers }) => ({
    ratings: { length: ratings.length, users: shared(ratings.users), items: shared(ratings.items), values: shared(ratings.values), times: shared(ratings.times) },
    nUsers, nItems, foldOf: shared(foldOf), rankedUsers: shared(rankedUsers),
  }));
  const idle: Worker[] = [];
  const queue: Array<{ job: FoldJob; resolve: (r: FoldResult) => void; reject: (e: Error) => void }> = [];
  const all = Array.from({ length: size }, () => new Worker(BOOTSTRAP, { eval: true, workerData: data }));
  const dispatch = () => {
    while (idle.length && queue.length) {
      const worker = idle.pop()!, task = queue.shift()!;
      const onError = (err: Error) => { worker.off("message", onMessage); task.reject(err); };
      const onMessage = (m: { ok: boolean; result?: FoldResult; message?: string; code?: string }) => {
        worker.off("error", onError);
        idle.push(worker);
        if (m.ok) task.resolve(m.result!); else task.reject(new RecsysError(m.code ?? "RECSYS_TUNE_FOLD_FAILED", m.message ?? "fold job failed"));
        dispatch();
      };
      worker.once("message", onMessage);
      worker.once("error", onError);
      worker.postMessage(task.job);
    }
  };
  idle.push(...all);
  return {
    run: (job) => new Promise((resolve, reject) => { queue.push({ job, resolve, reject }); dispatch(); }),
    close: async () => { await Promise.all(all.map((w) => w.terminate())); },
  };
}
