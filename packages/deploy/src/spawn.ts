import { spawn, type ChildProcess } from "node:child_process";
import { closeSync, mkdirSync, openSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { httpCall } from "./http.ts";
import { sleep } from "@recsys/core";

/** The workspace's CLI entry, run through tsx (no build step). */
export const DEFAULT_CLI = fileURLToPath(new URL("../../cli/src/main.ts", import.meta.url));

/** Where `node --import tsx` finds tsx: the workspace root of a CLI path. */
export const workspaceOf = (cliPath: string) => resolve(join(dirname(cliPath), "../../.."));

export interface CliProcessOptions {
  cliPath: string;
  cwd: string;
  /** `recsys` arguments, e.g. `["serve", "--model", dir, ...]`. */
  args: string[];
  env: Record<string, string | undefined>;
  /** stdout and stderr are appended here (no pipes: a detached child must not hang on us). */
  logFile: string;
  /** Own process group, survives this process. */
  detached: boolean;
  /** Polled until it answers 200. */
  readyUrl: string;
  readyTimeoutMs: number;
}

export type CliProcess = { ok: true; child: ChildProcess } | { ok: false; why: string; log: string };

/**
 * Spawns `node --import tsx <cli> <args>` and waits until `readyUrl` answers 200. A child that
 * exits first, or is not ready in time (then it is killed), is reported with the tail of its log.
 */
export async function spawnCli(o: CliProcessOptions): Promise<CliProcess> {
  mkdirSync(dirname(o.logFile), { recursive: true });
  const out = openSync(o.logFile, "a");
  let child: ChildProcess;
  try {
    child = spawn(process.execPath, ["--import", "tsx", o.cliPath, ...o.args], { cwd: o.cwd, env: o.env, stdio: ["ignore", out, out], detached: o.detached });
  } finally {
    closeSync(out); // the child holds its own copy of the descriptor
  }
  let exited: string | undefined;
  child.once("exit", (code, signal) => (exited = signal ?? `exit code ${code}`));
  const deadline = Date.now() + o.readyTimeoutMs;
  while (exited === undefined && Date.now() < deadline) {
    if ((await httpCall("GET", o.readyUrl, { timeoutMs: 500 })).status === 200) {
      if (o.detached) child.unref();
      return { ok: true, child };
    }
    await sleep(100);
  }
  if (exited === undefined) await stopProcess(child.pid!, child, { graceMs: 2_000 });
  return { ok: false, why: exited ?? `not ready after ${o.readyTimeoutMs} ms`, log: tail(o.logFile) };
}

/**
 * SIGTERM (after `drainMs`), then SIGKILL once `graceMs` has passed. `child` when we spawned it
 * (its exit event), else the pid is polled: a process of an earlier run works too. A process
 * that is already gone is not an error.
 */
export async function stopProcess(pid: number, child: ChildProcess | undefined, o: { drainMs?: number; graceMs: number }): Promise<void> {
  if (o.drainMs) await sleep(o.drainMs);
  const gone = child ? exitOf(child) : pollGone(pid);
  if (!signal(pid, "SIGTERM")) return;
  if (await Promise.race([gone.then(() => true), sleep(o.graceMs).then(() => false)])) return;
  signal(pid, "SIGKILL");
  await Promise.race([gone, sleep(2_000)]);
}

/** Sends a signal (0 = is it alive?); false when the process is gone. */
export function signal(pid: number, sig: NodeJS.Signals | 0): boolean {
  try {
    process.kill(pid, sig);
    return true;
  } catch {
    return false;
  }
}

function exitOf(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once("exit", () => resolve()));
}

async function pollGone(pid: number): Promise<void> {
  while (signal(pid, 0)) await sleep(50);
}

function tail(file: string): string {
  try {
    return readFileSync(file, "utf8").trim().split("\n").slice(-5).join(" | ") || "(empty)";
  } catch {
    return "(no log)";
  }
}
