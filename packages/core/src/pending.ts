import { existsSync, renameSync, rmSync } from "node:fs";
import type { OutputKind } from "./output.ts";

/** One atomic write in progress: its target, temp sibling and, during the swap, the old one. */
export interface PendingWrite {
  target: string;
  /** The claimed kind; null for files written inside an output (they go with it). */
  kind: OutputKind | null;
  existed: boolean;
  tmp: string;
  aside: string | null;
}

/** What an interrupted process leaves: per claimed output, whether the old one is intact. */
export interface AbandonedOutput {
  target: string;
  kind: OutputKind;
  /** kept: the previous output is untouched; absent: there was none and none was created; written: finished before the interruption. */
  state: "kept" | "absent" | "written";
}

const pending = new Set<PendingWrite>();
/** Outputs this process claimed (checked), by target: what an interruption would leave there. */
const claimed = new Map<string, AbandonedOutput>();

export function noteClaim(target: string, kind: OutputKind, existed: boolean): void {
  if (claimed.get(target)?.state !== "written") claimed.set(target, { target, kind, state: existed ? "kept" : "absent" });
}

export function noteWrite(w: PendingWrite): PendingWrite {
  pending.add(w);
  return w;
}

export function forgetWrite(w: PendingWrite, outcome: "written" | "failed"): void {
  pending.delete(w);
  if (outcome === "written" && w.kind !== null) claimed.set(w.target, { target: w.target, kind: w.kind, state: "written" });
}

/**
 * Called once from a SIGINT/SIGTERM handler, just before the process exits: removes every temp
 * sibling this process made, puts a moved-aside old directory back if the new one had not
 * arrived, and says what each claimed output now is. Synchronous, as the process ends next.
 */
export function abandonPendingWrites(): AbandonedOutput[] {
  for (const w of pending) {
    removeTreeNow(w.tmp);
    if (w.aside !== null) {
      if (existsSync(w.target)) rmSync(w.aside, { recursive: true, force: true });
      else renameSync(w.aside, w.target);
    }
  }
  pending.clear();
  return [...claimed.values()];
}

const pause = new Int32Array(new SharedArrayBuffer(4));

/**
 * rm -rf that wins against writes still in flight: the command's last awaits may have queued file
 * writes on libuv's pool, which keep adding entries while this synchronous walk removes them
 * (ENOTEMPTY). Node's own maxRetries does not wait long enough for them; a few 10 ms naps do.
 */
function removeTreeNow(path: string): void {
  for (let attempt = 1; ; attempt++) {
    try {
      rmSync(path, { recursive: true, force: true });
      return;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ENOTEMPTY" || attempt === 100) throw err;
      Atomics.wait(pause, 0, 0, 10);
    }
  }
}

/** One line for the user: "interrupted: nothing written, the old dataset at X is intact". */
export function describeInterruption(outputs: ReadonlyArray<AbandonedOutput>): string {
  const parts = outputs.map((o) => o.state === "kept" ? `the old ${o.kind} at ${o.target} is intact`
    : o.state === "absent" ? `${o.target} was not created` : `the ${o.kind} at ${o.target} was written before the interruption`);
  const nothing = outputs.every((o) => o.state !== "written");
  return `interrupted: ${nothing ? "nothing written" : "stopped"}${parts.length ? `, ${parts.join(", ")}` : ""}`;
}
