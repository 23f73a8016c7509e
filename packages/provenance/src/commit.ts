import { simpleGit } from "simple-git";
import { brokenLink, okLink, type Link } from "./link.ts";

/**
 * The commit link: the commit exists in `repoDir`'s repository (subject, author, date) and some
 * branch still contains it. A commit that exists but that no branch reaches was rewritten away
 * (amend, rebase, force-push): it is reported broken, as is one that is gone.
 *
 *     await commitLink(".", "0515ec6f...") // { ok: true, summary: "0515ec6ff951 fix the gate (Ada, 2026-12-01...)" }
 */
export async function commitLink(repoDir: string, commit: string): Promise<Link> {
  if (!/^[0-9a-f]{7,64}$/.test(commit)) return brokenLink("commit", `the release recorded no commit id ("${commit}")`, null, { found: commit });
  const git = simpleGit({ baseDir: repoDir });
  const isRepo = await git.checkIsRepo().catch(() => false);
  if (!isRepo) return brokenLink("commit", `${repoDir} is not a git repository (pass --repo DIR)`, repoDir, { expected: commit });
  const type = await git.raw(["cat-file", "-t", commit]).then((t) => t.trim(), () => "missing");
  if (type !== "commit") return brokenLink("commit", `commit ${commit.slice(0, 12)} is not in the repository (rewritten away, or another repository)`, repoDir, { expected: commit, found: "(missing)" });
  const [hash, subject, author, date] = (await git.show(["-s", "--format=%H%x00%s%x00%an <%ae>%x00%aI", commit])).trim().split("\0") as [string, string, string, string];
  const branches = (await git.raw(["branch", "--all", "--format=%(refname:short)", "--contains", commit])).split("\n").map((b) => b.trim()).filter(Boolean);
  const details = { hash, subject, author, date, branches };
  if (branches.length === 0) return brokenLink("commit", `commit ${hash.slice(0, 12)} "${subject}" exists but no branch contains it (rewritten away?)`, repoDir, { expected: "reachable from a branch", found: "unreachable" }, details);
  return okLink("commit", `${hash.slice(0, 12)} "${subject}" (${author}, ${date}) on ${branches.join(", ")}`, repoDir, details);
}
