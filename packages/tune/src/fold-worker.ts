import { parentPort, workerData } from "node:worker_threads";
import { runFoldJob, type FoldData, type FoldJob } from "./fold-job.ts";

// One fold job at a time; errors go back to the pool, which fails the search with them.
const data = workerData as FoldData[];
parentPort!.on("message", (job: FoldJob) => {
  runFoldJob(data[job.data]!, job).then(
    (result) => parentPort!.postMessage({ ok: true, result }),
    (err: Error) => parentPort!.postMessage({ ok: false, message: err.message, code: (err as { code?: string }).code }),
  );
});
