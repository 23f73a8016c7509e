import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/**
 * Gives the whole suite its own TMPDIR (workers and every process a test starts inherit it, and
 * `os.tmpdir()` reads it) and fails the run when a test left a file or a process behind, naming
 * them, so a leak shows up in the run that introduced it rather than as clutter in /tmp. What it
 * found is removed (and the processes killed) either way, so one leaky run does not spoil the next.
 */
export function setup(): () => void {
  const dir = mkdtempSync(join(tmpdir(), "recsys-suite-"));
  process.env.TMPDIR = dir;
  return () => {
    // tsx keeps its compile cache in tsx-<uid> below the temp dir: a tool's cache, not a test's leftover.
    const left = readdirSync(dir).filter((name) => !/^tsx-\d+$/.test(name));
    const alive = processesUnder(dir);
    for (const { pid } of alive) process.kill(pid, "SIGKILL");
    rmSync(dir, { recursive: true, force: true });
    const problems = [
      ...(left.length > 0 ? [`left in the temp dir: ${left.join(", ")}`] : []),
      ...(alive.length > 0 ? [`processes still running: ${alive.map((p) => `${p.pid} ${p.command}`).join("; ")}`] : []),
    ];
    if (problems.length === 0) return;
    // An error thrown here is printed but leaves the exit code at 0; CI must see the failure.
    console.error(`\nFAIL: the tests did not clean up after themselves: ${problems.join("; ")}`);
    process.exitCode = 1;
  };
}

/**
 * Processes whose environment carries the suite's TMPDIR: ones a test started. This process and its
 * own children (vitest's workers, still shutting down) are not.
 */
function processesUnder(dir: string): Array<{ pid: number; command: string }> {
  let pids: string[];
  try {
    pids = readdirSync("/proc").filter((p) => /^\d+$/.test(p) && Number(p) !== process.pid);
  } catch {
    return []; // no /proc (macOS): the temp-dir check still runs
  }
  const found: Array<{ pid: number; command: string }> = [];
  for (const pid of pids) {
    try {
      if (!readFileSync(`/proc/${pid}/environ`, "latin1").split("\0").includes(`TMPDIR=${dir}`)) continue;
      if (parentOf(pid) === process.pid) continue;
      found.push({ pid: Number(pid), command: readFileSync(`/proc/${pid}/cmdline`, "latin1").split("\0").join(" ").trim().slice(0, 120) });
    } catch {
      // gone meanwhile, or not ours to read
    }
  }
  return found;
}

function parentOf(pid: string): number {
  // The command name (field 2) may hold spaces and parentheses; the fields after its ")" do not.
  const stat = readFileSync(`/proc/${pid}/stat`, "latin1");
  return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
}
