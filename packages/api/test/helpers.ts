import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll } from "vitest";
import { createApiServer, resolveApiConfig, writeSyntheticRecModel, type ApiConfigInput, type ApiServer, type SyntheticModelOptions } from "../src/index.ts";

export const ADMIN_TOKEN = "test-admin-token-0123456789";

// One root per test file (this module is evaluated afresh for each), removed when the file is done.
const root = await mkdtemp(join(tmpdir(), "api-test-"));
afterAll(() => rm(root, { recursive: true, force: true }));

export async function tempDir(prefix = "t-"): Promise<string> {
  return mkdtemp(join(root, prefix));
}

/** A fresh synthetic model directory (small: tests stay fast). */
export async function modelDir(options: SyntheticModelOptions = {}, name = "model"): Promise<string> {
  const dir = join(await tempDir(), name);
  await writeSyntheticRecModel(dir, options);
  return dir;
}

/** An API server on an ephemeral loopback port, with a fixed commit and its own log dir. */
export async function startApi(settings: Partial<ApiConfigInput> & { modelDir: string }): Promise<{ api: ApiServer; url: string; logDir: string; reports: string[] }> {
  const logDir = settings.logDir ?? join(await tempDir("api-log-"), "logs");
  const config = resolveApiConfig({ port: 0, release: "test-rel", commit: "c0ffee", adminToken: ADMIN_TOKEN, logFlushMs: 20, ...settings, logDir });
  const reports: string[] = [];
  const api = createApiServer(config, { report: (line) => reports.push(line) });
  const { url } = await api.listen();
  return { api, url, logDir, reports };
}

export async function get(url: string): Promise<{ status: number; text: string; headers: Headers }> {
  const res = await fetch(url);
  return { status: res.status, text: await res.text(), headers: res.headers };
}
