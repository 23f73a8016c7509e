export { runMainJob, mainJobPaths, MainJobOptionsSchema } from "./main-job.ts";
export type { MainJobOptions, MainJobSummary } from "./main-job.ts";
