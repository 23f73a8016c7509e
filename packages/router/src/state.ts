import { z } from "zod";
import { describeIssues } from "@recsys/core";
import { RouterError } from "./errors.ts";

/**
 * The routing state model: a list of releases, each a set of interchangeable upstreams (replicas
 * running the same model/commit) with one weight for the whole release. Invariants, checked on
 * every change: exactly one `stable` release, at most one `canary`, unique ids, integer weights
 * that sum to 100, a release with weight > 0 has at least one upstream, and an upstream URL
 * belongs to one release only. Within a release, traffic is spread evenly over healthy
 * upstreams, so "stable 80 with two replicas" is the issue's 40% + 40%.
 *
 * All operations here are pure: they return a new list or throw a RouterError (HTTP 400/409)
 * and never touch the list they were given.
 */

/** `http://host:port` with no path; normalised to that form (no trailing slash). */
export const UpstreamUrlSchema = z.string().transform((text, ctx) => {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    ctx.addIssue({ code: "custom", message: `'${text}' is not a URL (want http://host:port)` });
    return z.NEVER;
  }
  if (url.protocol !== "http:" || (url.pathname !== "/" && url.pathname !== "") || url.search || url.hash || url.username) {
    ctx.addIssue({ code: "custom", message: `'${text}' must be plain http://host:port (no path, query or credentials)` });
    return z.NEVER;
  }
  return `http://${url.host}`;
});

/** Names an object's prototype machinery: never a release id, so never a key of a weights map either. */
const RESERVED_IDS = new Set(["__proto__", "constructor", "prototype"]);

export const ReleaseIdSchema = z.string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, "release id: 1-64 of letters, digits, '.', '_', '-'")
  .refine((id) => !RESERVED_IDS.has(id), { message: "release id: constructor and prototype are reserved" });
const WeightSchema = z.number().int("weight must be a whole number").min(0).max(100);

export const ReleaseSchema = z.strictObject({
  id: ReleaseIdSchema,
  role: z.enum(["stable", "canary"]),
  upstreams: z.array(UpstreamUrlSchema).max(64),
  weight: WeightSchema,
});
export type Release = z.output<typeof ReleaseSchema>;

/** A release list that satisfies every invariant of the model. */
export const ReleasesSchema = z.array(ReleaseSchema).min(1).max(8).superRefine((releases, ctx) => {
  const stable = releases.filter((r) => r.role === "stable").length;
  if (stable !== 1) ctx.addIssue({ code: "custom", message: `exactly one stable release is needed, found ${stable}` });
  const canary = releases.filter((r) => r.role === "canary").length;
  if (canary > 1) ctx.addIssue({ code: "custom", message: `at most one canary release, found ${canary}` });
  const sum = releases.reduce((s, r) => s + r.weight, 0);
  if (sum !== 100) ctx.addIssue({ code: "custom", message: `weights must sum to 100, they sum to ${sum}` });
  const ids = new Set<string>();
  const owner = new Map<string, string>();
  releases.forEach((r, i) => {
    if (ids.has(r.id)) ctx.addIssue({ code: "custom", path: [i, "id"], message: `duplicate release id '${r.id}'` });
    ids.add(r.id);
    if (r.weight > 0 && r.upstreams.length === 0) ctx.addIssue({ code: "custom", path: [i, "upstreams"], message: `release '${r.id}' has weight ${r.weight} but no upstreams` });
    r.upstreams.forEach((u, j) => {
      const other = owner.get(u);
      if (other !== undefined) ctx.addIssue({ code: "custom", path: [i, "upstreams", j], message: `${u} is already an upstream of release '${other}'` });
      owner.set(u, r.id);
    });
  });
});

/** Body of `POST /admin/weights`: explicit weights per release id, or the canary's share. */
export const WeightsChangeSchema = z.union([
  // Keys are checked on the parsed JSON's own names, before zod copies them into a plain
  // object (where a "__proto__" key would set the prototype and vanish instead of being refused).
  z.strictObject({ weights: z.custom<Record<string, unknown>>((v) => typeof v === "object" && v !== null && !Array.isArray(v) && Object.keys(v).every((k) => ReleaseIdSchema.safeParse(k).success), "weights: keys must be release ids").pipe(z.record(ReleaseIdSchema, WeightSchema)) }),
  z.strictObject({ canary: WeightSchema }),
]);
export type WeightsChange = z.output<typeof WeightsChangeSchema>;

/** Body of `POST /admin/upstreams`. */
export const UpstreamsChangeSchema = z.strictObject({ release: ReleaseIdSchema, upstreams: z.array(UpstreamUrlSchema).max(64) });

/** Body of `POST /admin/releases`. */
export const ReleasesChangeSchema = z.strictObject({ releases: z.array(z.unknown()) });

/** Validates a candidate list; on failure a 400 naming every broken invariant. */
export function checkReleases(candidate: unknown, where = "releases"): Release[] {
  const result = ReleasesSchema.safeParse(candidate);
  if (!result.success) throw new RouterError("badState", `${where}: ${describeIssues(result.error.issues)}`);
  return result.data;
}

/**
 * New weights. `{weights: {v1: 80, v2: 20}}` sets the named releases (others keep theirs);
 * `{canary: 20}` gives the canary 20 and the stable release the rest. The result must sum to 100.
 *
 *     applyWeights(releases, { canary: 50 }) // canary 50, stable 50
 */
export function applyWeights(releases: readonly Release[], change: WeightsChange): Release[] {
  if ("canary" in change) {
    requireCanary(releases, "set the canary weight");
    return checkReleases(releases.map((r) => ({ ...r, weight: r.role === "canary" ? change.canary : 100 - change.canary })), "weights");
  }
  for (const id of Object.keys(change.weights)) {
    if (!releases.some((r) => r.id === id)) throw new RouterError("badState", `weights: no release '${id}' (releases: ${releases.map((r) => r.id).join(", ")})`);
  }
  return checkReleases(releases.map((r) => ({ ...r, weight: change.weights[r.id] ?? r.weight })), "weights");
}

/**
 * Rollback: the canary's weight drops to 0 at once and its share goes back to the stable
 * release. The canary stays listed (weight 0) so its upstreams can be inspected or replaced.
 */
export function rollback(releases: readonly Release[]): Release[] {
  requireCanary(releases, "roll back");
  return checkReleases(releases.map((r) => ({ ...r, weight: r.role === "canary" ? 0 : 100 })), "rollback");
}

/**
 * Promote: the canary's release becomes the stable release with all the traffic; the old
 * stable release leaves the routing table and is returned as `retired`, so the caller can stop
 * (or re-deploy and re-add via setUpstreams) its replicas.
 */
export function promote(releases: readonly Release[]): { releases: Release[]; retired: Release } {
  const canary = requireCanary(releases, "promote");
  const retired = releases.find((r) => r.role === "stable")!;
  return { releases: checkReleases([{ ...canary, role: "stable", weight: 100 }], "promote"), retired };
}

/** Replaces one release's upstreams (scale out, replace a replica). */
export function setReleaseUpstreams(releases: readonly Release[], releaseId: string, upstreams: readonly string[]): Release[] {
  if (!releases.some((r) => r.id === releaseId)) throw new RouterError("badState", `upstreams: no release '${releaseId}'`);
  return checkReleases(releases.map((r) => (r.id === releaseId ? { ...r, upstreams: [...upstreams] } : r)), "upstreams");
}

function requireCanary(releases: readonly Release[], action: string): Release {
  const canary = releases.find((r) => r.role === "canary");
  if (!canary) throw new RouterError("noCanary", `cannot ${action}: there is no canary release`);
  return canary;
}
