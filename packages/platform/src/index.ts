export { runMainJob, mainJobPaths, MainJobOptionsSchema } from "./main-job.ts";
export type { MainJobOptions, MainJobSummary } from "./main-job.ts";
export { startTraffic } from "./traffic.ts";
export { canaryProgress, formatLiveView, formatStatus } from "./status.ts";
export type { CanaryProgress, LiveStatus } from "./status.ts";
export { createLiveBlock, createTerminalOutput } from "./terminal.ts";
export type { MainJobOutput, OutputStream } from "./terminal.ts";
export type { Traffic, TrafficOptions, TrafficStats } from "./traffic.ts";
