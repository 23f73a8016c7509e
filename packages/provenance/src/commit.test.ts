import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { simpleGit } from "simple-git";
import { commitLink } from "./commit.ts";

let repo: string;
beforeAll(async () => {
  repo = await mkdtemp(join(tmpdir(), "prov-git-"));
  const git = simpleGit({ baseDir: repo });
  await git.init().addConfig("user.name", "Ada").addConfig("user.email", "ada@example.org");
  await writeFile(join(repo, "a.txt"), "one\n");
  await git.add("a.txt").commit("first model");
});
afterAll(async () => {
  await rm(repo, { recursive: true, force: true });
});

describe("commit link", () => {
  it("names subject, author and date of a commit a branch contains", async () => {
    const head = (await simpleGit({ baseDir: repo }).revparse(["HEAD"])).trim();
    const link = await commitLink(repo, head);
    expect(link.ok).toBe(true);
    expect(link.details).toMatchObject({ hash: head, subject: "first model", author: "Ada <ada@example.org>" });
  });

  it("reports a commit rewritten away (amended: still in the object store, on no branch) as broken", async () => {
    const git = simpleGit({ baseDir: repo });
    const before = (await git.revparse(["HEAD"])).trim();
    await git.commit("first model, reworded", undefined, { "--amend": null });
    const link = await commitLink(repo, before);
    expect(link).toMatchObject({ ok: false, expected: "reachable from a branch", found: "unreachable" });
    const gone = await commitLink(repo, "0123456789abcdef0123456789abcdef01234567");
    expect(gone).toMatchObject({ ok: false, found: "(missing)" });
    expect((await commitLink(tmpdir(), before)).problem).toMatch(/not a git repository/);
  });
});
