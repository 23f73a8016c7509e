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
    rmSync(w.tmp, { recursive: true, force: true });
    if (w.aside !== null) {
      if (existsSync(w.target)) rmSync(w.aside, { recursive: true, force: true });
      else renameSync(w.aside, w.target);
    }
  }
  pending.clear();
  return [...claimed.values()];
}

/** One line for the user: "interrupted: nothing written, the old dataset at X is intact". */
export function describeInterruption(outputs: ReadonlyArray<AbandonedOutput>): string {
  const parts = outputs.map((o) => o.state === "kept" ? `the old ${o.kind} at ${o.target} is intact`
    : o.state === "absent" ? `${o.target} was not created` : `the ${o.kind} at ${o.target} was written before the interruption`);
  const nothing = outputs.every((o) => o.state !== "written");
  return `interrupted: ${nothing ? "nothing written" : "stopped"}${parts.length ? `, ${parts.join(", ")}` : ""}`;
}
