import { execFile } from "node:child_process";
import { mkdir, rmdir, stat } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import Docker from "dockerode";
import { sleep } from "@recsys/core";

export const ROOT = fileURLToPath(new URL("..", import.meta.url));

/**
 * Whether a Docker engine answers (DOCKER_HOST or the local socket) within 3 s: null if it
 * does, else why not, for the tests' skip message.
 */
export async function dockerUnavailableReason(): Promise<string | null> {
  const docker = new Docker();
  const answer = await Promise.race([docker.ping().then(() => null, (e: Error) => e.message), sleep(3000).then(() => "no answer in 3 s")]);
  return answer === null ? null : `no Docker engine (${answer}): start dockerd --iptables=false --storage-driver=vfs --bridge=none (see docker/README.md)`;
}

/** Says loudly that a file's Docker tests are skipped: a skipped production path is news. */
export function warnSkipped(file: string, reason: string): void {
  process.stderr.write(`\n*** ${file}: Docker tests SKIPPED: ${reason} ***\n\n`);
}

export function run(cmd: string, args: string[], options: { env?: Record<string, string>; timeoutMs?: number } = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { cwd: ROOT, env: { ...process.env, ...options.env }, timeout: options.timeoutMs ?? 600_000, maxBuffer: 64 << 20 },
      (err, stdout, stderr) => resolve({ code: err ? (typeof err.code === "number" ? err.code : 1) : 0, stdout, stderr }));
  });
}

const LOCK = "/tmp/recsys-docker-image-build.lock";

/**
 * Builds recsys:latest from the offline base (docker/build-image.sh --offline) once, however
 * many test files ask at the same time: the first takes a lock directory and builds, the
 * others wait for the lock to go. `force: false` reuses an image that exists. Returns the
 * build's wall time in ms (0 when reused or built by another file).
 */
export async function buildRecsysImage(force: boolean): Promise<number> {
  const docker = new Docker();
  if (!force && (await docker.getImage("recsys:latest").inspect().then(() => true, () => false))) return 0;
  for (;;) {
    try {
      await mkdir(LOCK);
      break;
    } catch {
      // A lock older than 15 minutes belongs to a run that died.
      const age = await stat(LOCK).then((s) => Date.now() - s.mtimeMs, () => 0);
      if (age > 15 * 60_000) await rmdir(LOCK).catch(() => undefined);
      await sleep(1000);
      if (!(await stat(LOCK).then(() => true, () => false))) return 0; // built by the other file
    }
  }
  try {
    const t0 = Date.now();
    const built = await run("docker/build-image.sh", ["--offline"]);
    if (built.code !== 0) throw new Error(`docker/build-image.sh --offline failed (${built.code}): ${built.stderr.slice(-2000)}`);
    return Date.now() - t0;
  } finally {
    await rmdir(LOCK).catch(() => undefined);
  }
}
