import { simpleGit } from "simple-git";

/**
 * The commit a release is built from: `git rev-parse HEAD` in `dir`, or "unknown" outside a git
 * checkout (or without git installed). RECSYS_GIT_COMMIT, when set, wins: a CI job or a
 * container knows its commit even where there is no .git directory.
 *
 *     await gitCommit(process.cwd(), process.env) // "fe211ec4..." or "unknown"
 */
export async function gitCommit(dir: string, env: Record<string, string | undefined> = {}): Promise<string> {
  if (env.RECSYS_GIT_COMMIT) return env.RECSYS_GIT_COMMIT;
  try {
    return (await simpleGit({ baseDir: dir }).revparse(["HEAD"])).trim() || "unknown";
  } catch {
    return "unknown";
  }
}
