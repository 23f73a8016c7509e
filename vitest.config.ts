import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["packages/*/src/**/*.test.ts", "packages/*/test/**/*.test.ts", "bench/**/*.test.ts", "docker/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Two cores: the suites start real servers and processes, keep them from starving each other.
    maxWorkers: 2,
    reporters: ["default", "./vitest.summary-reporter.ts"],
    // Fails the run when a test leaves files in the temp dir or processes running.
    globalSetup: ["./vitest.cleanup-guard.ts"],
  },
});
