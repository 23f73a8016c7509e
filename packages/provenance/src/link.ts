/** The links of a provenance chain, in the order a trace walks them. */
export type LinkName = "response" | "release" | "manifest" | "model" | "data" | "commit";

/**
 * One link of the chain as a plain value carrying its evidence, so the text and JSON views are
 * two renderings of one object. A broken link says what was expected and what was found.
 */
export interface Link {
  name: LinkName;
  ok: boolean;
  /** One line for people: what this link is. */
  summary: string;
  /** Where it was read from: a file, a directory, `store:<key>`, a git repository. */
  source: string | null;
  /** Set on a broken link: why, in one line, with what was expected and found when hashes differ. */
  problem?: string;
  expected?: string;
  found?: string;
  details: Record<string, unknown>;
}

export function okLink(name: LinkName, summary: string, source: string | null, details: Record<string, unknown> = {}): Link {
  return { name, ok: true, summary, source, details };
}

export function brokenLink(name: LinkName, problem: string, source: string | null, mismatch: { expected?: string; found?: string } = {}, details: Record<string, unknown> = {}): Link {
  return { name, ok: false, summary: problem, source, problem, ...mismatch, details };
}

/** The chain as text: one block per link, broken ones marked with expected vs found. */
export function formatLinks(links: readonly Link[]): string {
  const lines: string[] = [];
  for (const link of links) {
    lines.push(`${link.ok ? "ok    " : "BROKEN"} ${link.name.padEnd(8)} ${link.summary}`);
    if (link.source) lines.push(`       ${"".padEnd(8)} from ${link.source}`);
    if (link.expected !== undefined) lines.push(`       ${"".padEnd(8)} expected ${link.expected}`);
    if (link.found !== undefined) lines.push(`       ${"".padEnd(8)} found    ${link.found}`);
  }
  const broken = links.filter((l) => !l.ok).map((l) => l.name);
  lines.push(broken.length ? `chain broken at: ${broken.join(", ")}` : "chain verified");
  return lines.join("\n") + "\n";
}
