import { readEventLog } from "./event-log.ts";
import { indexWatches } from "./follow.ts";
import { arm, byGroupName, loadUserGroups, tallyByGroup, type GroupArm } from "./groups.ts";
import { readTelemetryLogs } from "./telemetry.ts";
import { InputError } from "@recsys/core";
import { CANARY_ERROR } from "./errors.ts";
import type { LoadStats } from "./records.ts";
import { isoTime, pct } from "./format.ts";

export interface OnlineGroupRate extends GroupArm {
  attribute: string;
  group: string;
}

export interface OnlineRelease {
  release: string;
  /** Every scored recommendation of the release, grouped or not. */
  overall: GroupArm;
  groups: OnlineGroupRate[];
  /** Per attribute: highest minus lowest group follow rate in this release (groups with a rate). */
  spread: Record<string, { highest: string; lowest: string; difference: number }>;
}

export interface OnlineFairness {
  followWindowMs: number;
  /** Requests are scored only when their follow window ended by then (the latest time in the logs). */
  asOfMs: number;
  releases: OnlineRelease[];
  inputs: { events: LoadStats; responses: LoadStats; users: number };
}

export interface OnlineFairnessInput {
  /** Event stream with the users' watch lines. */
  eventsFile: string;
  /** The API's response logs (files or directories, searched recursively): each answer with its release. */
  responses: readonly string[];
  usersFile: string;
  followWindowMs: number;
}

/**
 * The follow rate per user group (gender, age band, age x gender) and per release, from production
 * logs: the responses the replicas logged, the watches of the event stream, and the users file.
 * The same parsing and scoring as the canary analysis, over all of the logs.
 *
 *     const f = await onlineFairness({ eventsFile: "live/events.log", responses: ["platform/replicas"], usersFile: "users.jsonl", followWindowMs: 30_000 });
 */
export async function onlineFairness(input: OnlineFairnessInput): Promise<OnlineFairness> {
  const groups = await loadUserGroups(input.usersFile);
  const events = await readEventLog(input.eventsFile);
  const { requests, stats } = await readTelemetryLogs(input.responses);
  if (requests.length === 0) throw new InputError(CANARY_ERROR.noRequests, `--responses ${input.responses.join(", ")}: no response records to analyse`);
  let first = Infinity, last = -Infinity;
  for (const list of [requests, events.watches]) for (const r of list) { first = Math.min(first, r.timeMs); last = Math.max(last, r.timeMs); }
  const follow = { index: indexWatches(events.watches, first, last + 1, requests), followWindowMs: input.followWindowMs, asOfMs: last };
  const byRelease = new Map<string, typeof requests>();
  for (const r of requests) {
    const list = byRelease.get(r.release);
    if (list) list.push(r);
    else byRelease.set(r.release, [r]);
  }
  const everyone = new Map([["all", new Map(requests.map((r) => [r.userId, "all"]))]]);
  const releases = [...byRelease.keys()].sort().map((release): OnlineRelease => {
    const served = byRelease.get(release)!;
    const all = tallyByGroup(served, everyone, follow).get("all=all");
    const rows = [...tallyByGroup(served, groups, follow).values()].sort(byGroupName).map((t) => ({ attribute: t.attribute, group: t.group, ...arm(t.follows, t.eligible) }));
    const spread: OnlineRelease["spread"] = {};
    for (const attribute of new Set(rows.map((r) => r.attribute))) {
      const rated = rows.filter((r) => r.attribute === attribute && r.rate !== null).sort((a, b) => b.rate! - a.rate!);
      if (rated.length >= 2) spread[attribute] = { highest: rated[0]!.group, lowest: rated.at(-1)!.group, difference: rated[0]!.rate! - rated.at(-1)!.rate! };
    }
    return { release, overall: arm(all?.follows ?? 0, all?.eligible ?? 0), groups: rows, spread };
  });
  return { followWindowMs: input.followWindowMs, asOfMs: last, releases, inputs: { events: events.stats, responses: stats, users: new Set([...groups.values()].flatMap((m) => [...m.keys()])).size } };
}

const rateText = (a: GroupArm) => (a.rate === null ? "n/a" : `${pct(a.rate, 1)} [${pct(a.ci![0], 1)}, ${pct(a.ci![1], 1)}] of ${a.eligible}`);

/**
 * The per-release, per-group follow rates as terminal text: one block per release, a line per group.
 *
 *     process.stdout.write(formatOnlineFairness(await onlineFairness(input)) + "\n");
 */
export function formatOnlineFairness(f: OnlineFairness): string {
  const lines = [
    `follow = a watch of a recommended movie within ${f.followWindowMs / 1000} s; scored up to ${isoTime(f.asOfMs)}; ${f.inputs.responses.requests} responses, ${f.inputs.events.watches} viewings, ${f.inputs.users} users with a group`,
  ];
  for (const r of f.releases) {
    lines.push("", `release ${r.release}: follow rate ${rateText(r.overall)}`);
    const width = Math.max(0, ...r.groups.map((g) => `${g.attribute}=${g.group}`.length));
    for (const g of r.groups) lines.push(`  ${`${g.attribute}=${g.group}`.padEnd(width)}  ${rateText(g)}`);
    for (const [attribute, s] of Object.entries(r.spread)) lines.push(`  ${attribute}: ${s.highest} highest, ${s.lowest} lowest, difference ${pct(s.difference, 1)}`);
  }
  return lines.join("\n");
}
