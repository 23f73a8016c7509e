import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { resolveApiConfig } from "./config.ts";

const noGit = () => "unknown";

describe("resolveApiConfig", () => {
  it("takes flags over env over defaults", () => {
    const env = { RECSYS_MODEL_DIR: "m-env", RECSYS_PORT: "9000", RECSYS_EXPLORE: "0.1", RECSYS_RELEASE: "r-env", RECSYS_GIT_COMMIT: "abc" };
    const c = resolveApiConfig({ port: 0 }, env, noGit);
    expect(c).toMatchObject({ modelDir: "m-env", port: 0, host: "127.0.0.1", exploreShare: 0.1, release: "r-env", commit: "abc", cacheSize: 50_000 });
  });

  it("keeps response logs 14 days and 64 GiB by default, both settable from the environment", () => {
    expect(resolveApiConfig({ modelDir: "m" }, {}, noGit)).toMatchObject({ logRetentionDays: 14, logRetentionBytes: 64 * 1024 ** 3 });
    const c = resolveApiConfig({ modelDir: "m" }, { RECSYS_LOG_RETENTION_DAYS: "7", RECSYS_LOG_RETENTION_BYTES: "1000000" }, noGit);
    expect(c).toMatchObject({ logRetentionDays: 7, logRetentionBytes: 1_000_000 });
    expect(() => resolveApiConfig({ modelDir: "m" }, { RECSYS_LOG_RETENTION_BYTES: "lots" }, noGit)).toThrow(expect.objectContaining({ code: "RECSYS_API_BAD_CONFIG" }));
    expect(() => resolveApiConfig({ modelDir: "m" }, { RECSYS_LOG_RESPONSES: "no" }, noGit)).toThrow(expect.objectContaining({ code: "RECSYS_API_BAD_CONFIG" }));
  });

  it("falls back from RECSYS_GIT_COMMIT to git to 'unknown'", () => {
    expect(resolveApiConfig({ modelDir: "m" }, {}, () => "deadbeef").commit).toBe("deadbeef");
    expect(resolveApiConfig({ modelDir: "m" }, {}, noGit).commit).toBe("unknown");
  });

  it("rejects bad values and unknown keys with RECSYS_API_BAD_CONFIG", () => {
    const badLimits = [{ headersTimeoutMs: 5000, requestTimeoutMs: 1000 }, { maxHeaderSize: 10 }, { maxHeadersCount: 0 }, { maxTargetLength: 1.5 }, { connectionsCheckingIntervalMs: 0 }];
    for (const bad of [{ port: 70000 }, { exploreShare: 0.8 }, { adminToken: "short" }, { release: "has space" }, { nope: 1 } as object, ...badLimits]) {
      expect(() => resolveApiConfig({ modelDir: "m", ...bad }, {}, noGit)).toThrow(expect.objectContaining({ code: "RECSYS_API_BAD_CONFIG" }));
    }
    expect(() => resolveApiConfig({}, { RECSYS_PORT: "80a" }, noGit)).toThrow(/modelDir.*required|port/);
    expect(() => resolveApiConfig({ modelDir: "m", headersTimeoutMs: 5000, requestTimeoutMs: 1000 }, {}, noGit)).toThrow(/headersTimeoutMs: must not be longer than requestTimeoutMs/);
  });

  it("reads calibration from the environment, off by default, and requires the movies file when on", () => {
    expect(resolveApiConfig({ modelDir: "m" }, {}, noGit)).toMatchObject({ calibration: 0, calibrationCandidates: 100 });
    expect(resolveApiConfig({ modelDir: "m" }, { RECSYS_CALIBRATION: "0.3", RECSYS_MOVIES: "data/movies.jsonl" }, noGit)).toMatchObject({ calibration: 0.3, movies: "data/movies.jsonl" });
    expect(() => resolveApiConfig({ modelDir: "m" }, { RECSYS_CALIBRATION: "0.3" }, noGit)).toThrow(expect.objectContaining({ code: "RECSYS_API_BAD_CONFIG" }));
    expect(() => resolveApiConfig({ modelDir: "m", calibration: 1.5, movies: "x" }, {}, noGit)).toThrow(expect.objectContaining({ code: "RECSYS_API_BAD_CONFIG" }));
  });

  it("reads the popularity prior from the flag or RECSYS_POPULARITY_PRIOR, 0 by default, and names a bad value", () => {
    expect(resolveApiConfig({ modelDir: "m" }, {}, noGit).popularityPrior).toBe(0);
    expect(resolveApiConfig({ modelDir: "m" }, { RECSYS_POPULARITY_PRIOR: "1.5" }, noGit).popularityPrior).toBe(1.5);
    expect(resolveApiConfig({ modelDir: "m", popularityPrior: 2 }, { RECSYS_POPULARITY_PRIOR: "1.5" }, noGit).popularityPrior).toBe(2);
    expect(() => resolveApiConfig({ modelDir: "m" }, { RECSYS_POPULARITY_PRIOR: "-1" }, noGit)).toThrow(/popularityPrior \(RECSYS_POPULARITY_PRIOR\): Too small/);
  });

  it("takes the models root from the flag, else RECSYS_MODELS_ROOT, else the model directory's parent (absolute)", () => {
    expect(resolveApiConfig({ modelDir: "models/current" }, {}, noGit).modelsRoot).toBe(resolve("models"));
    expect(resolveApiConfig({ modelDir: "/srv/m/current" }, { RECSYS_MODELS_ROOT: "/srv/all" }, noGit).modelsRoot).toBe("/srv/all");
    expect(resolveApiConfig({ modelDir: "/srv/m/current", modelsRoot: "/srv/flag" }, { RECSYS_MODELS_ROOT: "/srv/all" }, noGit).modelsRoot).toBe("/srv/flag");
  });

  it("bounds the HTTP listener by default: timeouts that fire within a second of their value, head and target limits", () => {
    expect(resolveApiConfig({ modelDir: "m" }, {}, noGit)).toMatchObject({
      headersTimeoutMs: 10_000, requestTimeoutMs: 30_000, keepAliveTimeoutMs: 30_000, connectionsCheckingIntervalMs: 1000,
      maxHeaderSize: 16_384, maxHeadersCount: 100, maxTargetLength: 2048,
    });
  });
});
