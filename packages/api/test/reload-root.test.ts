import { cp, rm, symlink, truncate, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadRecModel } from "@recsys/artifact";
import { createApiServer, resolveApiConfig, type ApiServer } from "../src/index.ts";
import { ADMIN_TOKEN, modelDir, startApi, tempDir } from "./helpers.ts";

const SECRET = "TOPSECRET-not-for-the-caller";
let base: string, root: string, outsideModel: string;
let api: ApiServer, url: string, reports: string[];
let hashA: string, hashB: string;

beforeAll(async () => {
  base = await tempDir("api-reload-root-");
  root = join(base, "models");
  const dirA = await modelDir({ users: 40, movies: 50, seed: 1 }, "model-a", root);
  const dirB = await modelDir({ users: 40, movies: 50, seed: 2 }, "model-b", root);
  outsideModel = await modelDir({ users: 40, movies: 50, seed: 3 }, "model-x", join(base, "outside"));
  await symlink(outsideModel, join(root, "link-out"));
  await symlink(dirB, join(root, "link-in"));
  await cp(dirB, join(root, "model-bad"), { recursive: true });
  await truncate(join(root, "model-bad", "item_factors.f32"), 100);
  // A model directory inside the root whose model.json points at a file outside it.
  await writeFile(join(base, "secret.txt"), `${SECRET}\n`);
  await cp(dirA, join(root, "leaky"), { recursive: true });
  await rm(join(root, "leaky", "model.json"));
  await symlink(join(base, "secret.txt"), join(root, "leaky", "model.json"));
  [hashA, hashB] = await Promise.all([dirA, dirB].map(async (d) => (await loadRecModel(d)).meta.modelHash));
  // No modelsRoot: the default is the served model's parent directory, the platform's models/.
  ({ api, url, reports } = await startApi({ modelDir: dirA, logDir: join(base, "logs") }));
});
afterAll(async () => {
  await api?.close();
  await rm(base, { recursive: true, force: true });
});

async function reload(model: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const r = await fetch(`${url}/admin/reload`, {
    method: "POST",
    headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, "Content-Type": "application/json" },
    body: JSON.stringify({ model }),
  });
  return { status: r.status, body: (await r.json()) as Record<string, unknown> };
}

describe("POST /admin/reload under the models root", () => {
  it("refuses every path outside the root with one answer that tells nothing about it", async () => {
    const outside = ["/etc", "/etc/passwd", "../..", "..", ".", "../outside/model-x", outsideModel, "link-out", join(root, "link-out"),
      "model-a/../../outside/model-x", "nope", join(root, "nope"), "/nonexistent/dir", "model-a\u0000"];
    const answers = await Promise.all(outside.map(reload));
    for (const [i, a] of answers.entries()) {
      expect(a.status, outside[i]).toBe(403);
      expect(a.body, outside[i]).toEqual(answers[0]!.body);
    }
    expect(answers[0]!.body).toMatchObject({ code: "RECSYS_API_MODEL_OUTSIDE_ROOT", serving: hashA });
    expect(await fetch(`${url}/recommend/1`).then((r) => r.headers.get("x-model"))).toBe(hashA);
    expect(reports.some((line) => line.includes(`"/etc" is not a directory under the models root`))).toBe(true); // the operator sees who tried what
  });

  it("keeps the loader's detail (file names, sizes, first bytes) out of the answer and in the server's report", async () => {
    const corrupt = await reload("model-bad");
    const leaky = await reload("leaky");
    expect([corrupt.status, leaky.status]).toEqual([422, 422]);
    expect(corrupt.body).toMatchObject({ code: "RECSYS_BAD_ARTIFACT", serving: hashA });
    expect(leaky.body).toEqual(corrupt.body);
    expect(JSON.stringify(leaky.body)).not.toContain("TOPSECRET");
    expect(reports.join("\n")).toMatch(/model-bad.*item_factors/);
  });

  it("loads a sibling model named relative to the root, by absolute path, or through a symlink that stays inside", async () => {
    for (const name of ["model-b", join(root, "model-a"), "link-in", "./model-a/"]) {
      const r = await reload(name);
      expect(r.status, name).toBe(200);
    }
    const last = await reload("model-b");
    expect(last.body).toMatchObject({ modelHash: hashB, previousModelHash: hashA });
    expect(await fetch(`${url}/recommend/1`).then((r) => r.headers.get("x-model"))).toBe(hashB);
  });

  it("takes the root from modelsRoot, and refuses to start when that is not a directory", async () => {
    const narrow = await startApi({ modelDir: join(root, "model-a"), modelsRoot: join(base, "outside"), logDir: join(base, "logs-narrow") });
    try {
      const tried = await fetch(`${narrow.url}/admin/reload`, { method: "POST", headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, "Content-Type": "application/json" }, body: JSON.stringify({ model: "model-x" }) });
      expect(tried.status).toBe(200);
    } finally {
      await narrow.api.close();
    }
    const bad = createApiServer(resolveApiConfig({ modelDir: join(root, "model-a"), modelsRoot: join(base, "secret.txt"), port: 0, logDir: join(base, "logs-bad") }), { report: () => undefined });
    await expect(bad.listen()).rejects.toMatchObject({ code: "RECSYS_API_BAD_MODELS_ROOT", exitCode: 2 });
  });
});
