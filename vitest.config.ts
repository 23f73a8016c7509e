import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["packages/*/src/**/*.test.ts", "packages/*/test/**/*.test.ts", "bench/**/*.test.ts", "docker/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Two cores: the suites start real servers and processes, keep them from starving each other.
    maxWorkers: 2,
    // Deploy tests release from this checkout, which is dirty while someone works on it: allow it
    // (recorded in each manifest); the dirty-tree refusal is tested with an explicit environment.
    env: { RECSYS_ALLOW_DIRTY: "1" },
    reporters: ["default", "./vitest.summary-reporter.ts"],
    // Fails the run when a test leaves files in the temp dir or processes running.
    globalSetup: ["./vitest.cleanup-guard.ts"],
  },
});
