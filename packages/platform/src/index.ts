export { runMainJob, mainJobPaths, MainJobOptionsSchema } from "./main-job.ts";
export type { MainJobOptions, MainJobSummary } from "./main-job.ts";
export { startTraffic } from "./traffic.ts";
export type { Traffic, TrafficOptions, TrafficStats } from "./traffic.ts";
