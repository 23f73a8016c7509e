import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { badDeployInput } from "./errors.ts";
import type { RouterRelease } from "./router-admin.ts";

/** The front's template in the repository (nginx/front.conf.template). */
export const FRONT_TEMPLATE = fileURLToPath(new URL("../../../nginx/front.conf.template", import.meta.url));

/** What the front serves: the routing table, numbered so a reload can be seen to have landed. */
export interface FrontTable {
  generation: number;
  releases: RouterRelease[];
}

const SAFE_ID = /^[A-Za-z0-9._@-]+$/;

/**
 * Refuses a routing table nginx should never be given: weights that are not whole numbers from
 * 0 to 100 summing to 100, not exactly one stable release, a weighted release without replicas,
 * an id or upstream that is not plain text (it goes into the config file).
 */
export function checkFrontTable(releases: readonly RouterRelease[]): void {
  const where = "nginx front routing table";
  if (releases.filter((r) => r.role === "stable").length !== 1) throw badDeployInput(where, "needs exactly one stable release");
  if (releases.reduce((sum, r) => sum + r.weight, 0) !== 100) throw badDeployInput(where, "weights must sum to 100");
  for (const r of releases) {
    if (!SAFE_ID.test(r.id)) throw badDeployInput(where, `release id '${r.id}' may only hold letters, digits and ._@-`);
    if (!Number.isInteger(r.weight) || r.weight < 0 || r.weight > 100) throw badDeployInput(where, `release ${r.id}: weight ${r.weight} is not a whole number from 0 to 100`);
    if (r.weight > 0 && r.upstreams.length === 0) throw badDeployInput(where, `release ${r.id} has weight ${r.weight} and no replicas`);
    for (const u of r.upstreams) upstreamAddress(u);
  }
}

/** `http://127.0.0.1:8181` -> `127.0.0.1:8181`; anything else is refused. */
function upstreamAddress(url: string): string {
  const m = /^http:\/\/([A-Za-z0-9.-]+|\[[0-9a-fA-F:]+\]):(\d{1,5})\/?$/.exec(url);
  if (!m) throw badDeployInput("nginx front routing table", `upstream '${url}' is not http://host:port`);
  return `${m[1]}:${m[2]}`;
}

const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));

/**
 * One nginx `server` line per replica: a release's weight is shared equally by its replicas.
 * Weights are scaled by 60 (every replica count up to 6 divides it) and reduced by their common
 * divisor, so 20/80 over one canary and two stable replicas is 1:2:2, and nginx's plain hash
 * (its key modulo the weight total) splits exactly.
 */
export function serverLines(releases: readonly RouterRelease[]): string[] {
  const servers = releases.filter((r) => r.weight > 0).flatMap((r) =>
    r.upstreams.map((u) => ({ release: r, address: upstreamAddress(u), weight: Math.max(1, Math.round((r.weight * 60) / r.upstreams.length)) })));
  const common = servers.reduce((g, s) => gcd(g, s.weight), 0) || 1;
  return servers.map((s) => `    server ${s.address} weight=${s.weight / common} max_fails=2 fail_timeout=10s; # ${s.release.role} ${s.release.id} (${s.release.weight}%)`);
}

/**
 * The front's nginx config for a routing table: the template with {{PORT}}, {{SERVERS}} and
 * {{GENERATION}} filled in. Pure; `nginx -t` still checks the result before it serves.
 *
 *     renderFront(await readFile(FRONT_TEMPLATE, "utf8"), 8180, { generation: 2, releases })
 */
export function renderFront(template: string, port: number, table: FrontTable): string {
  checkFrontTable(table.releases);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw badDeployInput("nginx front", `port ${port} is not 1..65535`);
  const values: Record<string, string> = { PORT: String(port), SERVERS: serverLines(table.releases).join("\n"), GENERATION: String(table.generation) };
  return template.replace(/\{\{([A-Z]+)\}\}/g, (whole, name: string) => values[name] ?? whole);
}

export async function readTemplate(path: string): Promise<string> {
  try {
    return await readFile(path, "utf8");
  } catch (err) {
    throw badDeployInput(path, `cannot read the nginx front template (${(err as NodeJS.ErrnoException).code}); it ships in the repository under nginx/`);
  }
}
