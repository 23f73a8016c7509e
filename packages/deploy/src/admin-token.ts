import { randomBytes } from "node:crypto";
import { readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { writeFileAtomic } from "@recsys/core";
import { badDeployInput } from "./errors.ts";
import { STATE_FILES } from "./state.ts";

/** The router refuses shorter admin tokens. */
const MIN_TOKEN = 16;

/**
 * The admin token a platform starts with: `given` (RECSYS_ADMIN_TOKEN) as it is, else a random
 * one (`generated`), which the platform hands to `writeAdminToken` once it is up.
 */
export function platformAdminToken(given: string | undefined, where = "RECSYS_ADMIN_TOKEN"): { token: string; generated: boolean } {
  if (given === undefined) return { token: randomBytes(24).toString("hex"), generated: true };
  if (given.length < MIN_TOKEN) throw badDeployInput(where, `at least ${MIN_TOKEN} characters (the router refuses a shorter admin token)`);
  return { token: given, generated: false };
}

/**
 * Writes a generated token to STATE/admin-token, readable by its owner only (0600, the temp
 * file too), so `recsys deploy` run by the same user finds it without the token ever being
 * shown or passed around.
 */
export async function writeAdminToken(stateDir: string, token: string): Promise<void> {
  await writeFileAtomic(join(stateDir, STATE_FILES.adminToken), `${token}\n`, undefined, 0o600);
}

/** Removes the token file a platform wrote (its token dies with the router). */
export async function removeAdminToken(stateDir: string): Promise<void> {
  await rm(join(stateDir, STATE_FILES.adminToken), { force: true });
}

/**
 * The token a deploy uses: `given` (RECSYS_ADMIN_TOKEN), else the one the running platform
 * wrote to STATE/admin-token.
 */
export async function deployAdminToken(given: string | undefined, stateDir: string): Promise<string> {
  if (given) return given;
  const path = join(stateDir, STATE_FILES.adminToken);
  const text = await readFile(path, "utf8").catch((err: NodeJS.ErrnoException) => {
    if (err.code === "ENOENT") return null;
    throw badDeployInput(path, `cannot read the router's admin token (${err.code}): run the deploy as the user who started the platform, or set RECSYS_ADMIN_TOKEN`);
  });
  if (text === null) throw badDeployInput("RECSYS_ADMIN_TOKEN", `not set, and ${path} does not exist (the platform was started with its own RECSYS_ADMIN_TOKEN): set the same one here`);
  return text.trim();
}
