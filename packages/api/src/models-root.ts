import { realpath, stat } from "node:fs/promises";
import { isAbsolute, relative, resolve, sep } from "node:path";
import { badModelsRoot, modelOutsideRoot } from "./errors.ts";

/**
 * The real path of a model directory a reload names, `requested` being relative to `root` or
 * absolute, once every symlink is resolved: it must be a directory strictly inside the real
 * root, else the one `RECSYS_API_MODEL_OUTSIDE_ROOT` error. The caller loads the returned real
 * path, not the name, so the name's symlinks are not followed a second time after the check
 * (what lies inside the root is trusted: whoever can write there can already swap models).
 *
 *     await modelDirUnderRoot("/srv/models", "m2")          // "/srv/models/m2"
 *     await modelDirUnderRoot("/srv/models", "../../etc")   // throws RECSYS_API_MODEL_OUTSIDE_ROOT
 */
export async function modelDirUnderRoot(root: string, requested: string): Promise<string> {
  try {
    const realRoot = await realpath(root);
    const real = await realpath(resolve(realRoot, requested));
    const rel = relative(realRoot, real);
    const inside = rel !== "" && rel !== ".." && !rel.startsWith(".." + sep) && !isAbsolute(rel);
    if (inside && (await stat(real)).isDirectory()) return real;
  } catch {
    // A path that does not resolve is refused exactly like one outside: the answer must not tell them apart.
  }
  throw modelOutsideRoot();
}

/** Checks at start that the models root is a directory, so a typo fails `recsys serve` (exit 2), not a later reload. */
export async function checkModelsRoot(root: string): Promise<void> {
  const info = await stat(root).catch((err: NodeJS.ErrnoException) => {
    throw badModelsRoot(root, err.code ?? err.message);
  });
  if (!info.isDirectory()) throw badModelsRoot(root, "not a directory");
}
