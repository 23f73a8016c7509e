import { parentPort, workerData } from "node:worker_threads";
import { runLoop, type RunSpec } from "./loop.ts";

// Worker entry of the pool (pool.ts): one run, its round ticks, then its result or its error.
const spec = workerData as RunSpec;
runLoop(spec, (round) => parentPort!.postMessage({ round })).then(
  (result) => parentPort!.postMessage({ result }),
  (err: Error) => parentPort!.postMessage({ error: { message: err.message, code: (err as { code?: string }).code } }),
);
