import { once } from "node:events";
import { mkdtemp, rm } from "node:fs/promises";
import { connect } from "node:net";
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

/** A fresh synthetic model directory (small: tests stay fast), in `parent` or a new temp dir. */
export async function modelDir(options: SyntheticModelOptions = {}, name = "model", parent?: string): Promise<string> {
  const dir = join(parent ?? (await tempDir()), name);
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

/**
 * Writes raw bytes to a loopback port (optionally more later, through `more`) and collects
 * everything the server sends until it closes the connection or `until` says enough.
 */
export async function rawExchange(url: string, bytes: string, options: { more?: (write: (b: string) => boolean) => void; until?: (received: string) => boolean } = {}): Promise<{ received: string; closedByServer: boolean }> {
  const socket = connect({ host: "127.0.0.1", port: Number(new URL(url).port) });
  socket.on("error", () => undefined); // a reset after the server's answer is still an answer
  await once(socket, "connect");
  let received = "";
  let closedByServer = true;
  socket.on("data", (chunk: Buffer) => {
    received += chunk.toString("latin1");
    if (options.until?.(received)) {
      closedByServer = false;
      socket.destroy();
    }
  });
  socket.write(bytes);
  options.more?.((b) => !socket.destroyed && socket.write(b));
  await once(socket, "close");
  return { received, closedByServer };
}
