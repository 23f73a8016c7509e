/**
 * A/B of the router: `recsys route` from the commit `--base` (checked out as a git worktree and
 * installed offline from pnpm's store) against this working tree, with the same config (event
 * log on unless --no-log) and the same stub upstreams, in alternating closed-loop phases over
 * several rounds. This machine's speed drifts by tens of percent within minutes, so two runs of
 * bench/route.ts minutes apart cannot tell whether a change made the router cheaper; phases a
 * few seconds apart, alternated, can. Prints every phase, the medians and the difference.
 *
 *     npx tsx bench/route-ab.ts --base HEAD~1 [--rounds 5] [--seconds 5] [--connections 32] [--no-log]
 */
import { execFileSync } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { Children, inRounds, measurePeak, median, peakRow, realTime, ROOT } from "./lib/harness.ts";

const { values: args } = parseArgs({ options: {
  base: { type: "string" }, rounds: { type: "string", default: "5" }, seconds: { type: "string", default: "5" },
  connections: { type: "string", default: "32" }, "no-log": { type: "boolean", default: false },
} });
const rounds = Number(args.rounds);
const seconds = Number(args.seconds);
const connections = Number(args.connections);
if (!args.base || !(rounds >= 1) || !(seconds >= 1) || !(connections >= 1)) {
  console.error("usage: npx tsx bench/route-ab.ts --base REV [--rounds N>=1] [--seconds S>=1] [--connections C>=1] [--no-log]");
  process.exit(2);
}
const git = (...argv: string[]) => execFileSync("git", argv, { cwd: ROOT, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }).trim();
let baseCommit: string;
try {
  baseCommit = git("rev-parse", "--verify", `${args.base}^{commit}`);
} catch {
  console.error(`--base: '${args.base}' is not a commit of this repository`);
  process.exit(2);
}

const phase = (url: string, pid: number, s: number) => measurePeak(url, pid, connections, s);

const children = new Children();
const dir = await mkdtemp(join(tmpdir(), "bench-route-ab-"));
const baseTree = join(dir, "base");
try {
  git("worktree", "add", "--detach", baseTree, baseCommit);
  // pnpm links the worktree's own packages; everything else comes from the store this tree used.
  execFileSync("npx", ["-y", "pnpm@12.4.2", "install", "--frozen-lockfile", "--offline"], { cwd: baseTree, stdio: "ignore" });
  const stubs = await children.startStubs();
  const config = join(dir, "router.json");
  await writeFile(config, JSON.stringify({
    releases: [
      { id: "stable", role: "stable", upstreams: [stubs.urls[0], stubs.urls[1]], weight: 80 },
      { id: "canary", role: "canary", upstreams: [stubs.urls[2]], weight: 20 },
    ],
    ...(args["no-log"] ? {} : { eventLog: { path: join(dir, "events.log") } }),
    // Both routers listen for admin calls on a free port (the default 8092 fits one); a base
    // commit older than the admin listener (a17278c) refuses this key.
    admin: { port: 0 },
  }));
  const base = await children.startRouter(config, baseTree);
  const head = await children.startRouter(config, ROOT);
  const rt = (await realTime(process.pid)) && (await realTime(stubs.child.pid!));
  const label = `${args.base} (${baseCommit.slice(0, 7)})`;
  console.log(`bench/route-ab: ${label} vs working tree, ${rounds} rounds of ${seconds} s, ${connections} connections, event log ${args["no-log"] ? "off" : "on"}; load generator and upstreams ${rt ? "at real-time priority" : "at normal priority"}`);
  const contenders: [string, string, number][] = [["base", base.url, base.child.pid!], ["head", head.url, head.child.pid!]];
  for (const [, url, pid] of contenders) await phase(url, pid, 2); // warm-up: keep-alive pools, JIT
  const runs = await inRounds(contenders, rounds, ([, url, pid]) => phase(url, pid, seconds), (i, round, r) => console.log(peakRow(`${contenders[i][0]} #${round + 1}`, r)));
  const [b, h] = runs.map((r) => median(r, (x) => x.cpuUsPerReq));
  const [bPeak, hPeak] = runs.map((r) => median(r, (x) => x.requests.average));
  const pct = (x: number) => `${x >= 0 ? "+" : ""}${(x * 100).toFixed(1)}%`;
  console.log(`median CPU per request: base ${b.cpuUsPerReq.toFixed(1)} us, head ${h.cpuUsPerReq.toFixed(1)} us (${pct(h.cpuUsPerReq / b.cpuUsPerReq - 1)}); median peak: base ${bPeak.requests.average.toFixed(0)}/s, head ${hPeak.requests.average.toFixed(0)}/s (${pct(hPeak.requests.average / bPeak.requests.average - 1)})`);
} finally {
  await children.stopAll();
  try { git("worktree", "remove", "--force", baseTree); } catch { /* never added */ }
  await rm(dir, { recursive: true, force: true });
}
