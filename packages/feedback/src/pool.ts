import { existsSync } from "node:fs";
import { Worker } from "node:worker_threads";
import { RecsysError } from "@recsys/core";
import { runLoop, type RunResult, type RunSpec } from "./loop.ts";

/**
 * Runs the experiment's (epsilon, seed) runs, `workers` at a time: in this thread for one, else
 * each on a worker thread of its own (the sources are TypeScript, so the thread registers tsx's
 * loader first). Results come back in the order of `specs` whatever order they finish in.
 * `onRound(run, round)` ticks after every round of every run, for the progress line.
 */
export async function runAll(specs: readonly RunSpec[], workers: number, onRound: (run: number, round: number) => void): Promise<RunResult[]> {
  const results = new Array<RunResult>(specs.length);
  const source = workers > 1 ? workerSource() : null;
  const lanes = source ? Math.min(workers, specs.length) : 1;
  let next = 0;
  const live = new Set<Worker>();
  const lane = async () => {
    while (next < specs.length) {
      const at = next++;
      results[at] = source
        ? await inWorker(source, specs[at]!, (round) => onRound(at, round), live)
        : await runLoop(specs[at]!, (round) => onRound(at, round));
    }
  };
  try {
    await Promise.all(Array.from({ length: lanes }, lane));
  } finally {
    // A failed run stops the others: nothing keeps computing for a report that will not be written.
    await Promise.all([...live].map((w) => w.terminate()));
  }
  return results;
}

/**
 * The worker's bootstrap, or null when threads cannot load the run: they need the TypeScript
 * entry and tsx beside it, which a bundled build (the Docker image) has not; then the runs share
 * the calling thread, same results.
 */
function workerSource(): string | null {
  const entry = new URL("./run-worker.ts", import.meta.url);
  if (entry.protocol !== "file:" || !existsSync(entry)) return null;
  let loader: string;
  try {
    loader = import.meta.resolve("tsx/esm/api");
  } catch {
    return null;
  }
  return `(async () => { const { register } = await import(${JSON.stringify(loader)}); register(); await import(${JSON.stringify(entry.href)}); })();`;
}

function inWorker(source: string, spec: RunSpec, onRound: (round: number) => void, live: Set<Worker>): Promise<RunResult> {
  const worker = new Worker(source, { eval: true, workerData: spec });
  live.add(worker);
  return new Promise<RunResult>((resolve, reject) => {
    worker.on("message", (m: { round?: number; result?: RunResult; error?: { message: string; code?: string } }) => {
      if (m.round !== undefined) onRound(m.round);
      else if (m.result) resolve(m.result);
      else if (m.error) reject(m.error.code ? new RecsysError(m.error.code, m.error.message) : new Error(m.error.message));
    });
    worker.on("error", reject);
    worker.on("exit", (code) => reject(new Error(`a feedback run's worker stopped (exit ${code}) before it reported`)));
  }).finally(() => { live.delete(worker); void worker.terminate(); });
}
