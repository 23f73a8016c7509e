import { execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll } from "vitest";
import { createRng } from "@recsys/core";
import { writeRecModel } from "@recsys/artifact";

export const USERS = 60;
const MOVIES = 40;
const K = 4;

/**
 * A small, valid recommender (seeded random factors) written with writeRecModel: no training.
 * `seed` makes models differ (so their hashes do); `passed: false` writes a gate-failed one.
 */
export async function writeTestModel(dir: string, seed: number, passed = true): Promise<string> {
  const rng = createRng(seed);
  const rand = (n: number, scale: number) => Float32Array.from({ length: n }, () => (rng.next() - 0.5) * scale);
  const seen = Array.from({ length: USERS }, (_, u) => [u % MOVIES, (u * 7) % MOVIES]);
  const offsets = new Uint32Array(USERS + 1);
  seen.forEach((items, u) => (offsets[u + 1] = offsets[u]! + items.length));
  await writeRecModel(dir, {
    engine: "test", hyperParams: { seed }, factors: K, globalMean: 3.5,
    userIds: Array.from({ length: USERS }, (_, u) => u + 1), movieIds: Array.from({ length: MOVIES }, (_, i) => `movie+${i}+${2000 + (i % 20)}`),
    groups: [], metrics: { rmse: passed ? 0.9 : 1.3 }, gate: { metric: "rmse", threshold: 1, value: passed ? 0.9 : 1.3, passed },
    dataHash: "d41d8cd98f00b204e9800998ecf8427e", createdAt: "2026-12-01T00:00:00.000Z",
  }, {
    userFactors: rand(USERS * K, 1), itemFactors: rand(MOVIES * K, 1), userBias: rand(USERS, 0.2), itemBias: rand(MOVIES, 0.4),
    seenOffsets: offsets, seenItems: Uint32Array.from(seen.flat()),
    itemPopularity: rand(MOVIES, 10).map(Math.abs), groupPopularity: new Float32Array(0),
    sideUserIds: new Uint32Array(0), sideUserGroups: new Uint8Array(0),
  });
  return dir;
}

// One root per test file (this module is evaluated afresh for each), removed when the file is done.
// Made on first use: a file whose tests are all skipped (no Docker engine) runs no hooks, so a root
// made at load time would be left behind.
let root: Promise<string> | null = null;
afterAll(async () => { if (root) await rm(await root, { recursive: true, force: true }); });

export async function tempDir(prefix: string): Promise<string> {
  root ??= mkdtemp(join(tmpdir(), "deploy-"));
  return mkdtemp(join(await root, `${prefix}-`));
}

const ROOT = fileURLToPath(new URL("../../..", import.meta.url));

/** `recsys <args>` as a real child process, the way a user or a CI job runs it. */
export function recsys(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ["--import", "tsx", "packages/cli/src/main.ts", ...args], { cwd: ROOT, env: { ...process.env, ...env }, timeout: 90_000 },
      (err, stdout, stderr) => resolve({ code: err ? (typeof err.code === "number" ? err.code : 1) : 0, stdout, stderr }));
  });
}
