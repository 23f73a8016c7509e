import { createServer } from "node:http";
import { once } from "node:events";
import { connect, type AddressInfo } from "node:net";
import { cp, readFile, readdir, rename, rm, truncate } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { loadRecModel, type RecModel } from "@recsys/artifact";
import { TELEMETRY_HEADER } from "@recsys/core";
import { createApiServer, recommend, resolveApiConfig, type ApiServer } from "../src/index.ts";
import { ADMIN_TOKEN, get, modelDir, startApi, tempDir } from "./helpers.ts";

let modelsRoot: string, dirA: string, dirB: string, badDir: string;
let model: RecModel;
let api: ApiServer, url: string, logDir: string;

beforeAll(async () => {
  // Siblings in one models root: reload loads only directories under the served model's parent.
  modelsRoot = await tempDir();
  dirA = await modelDir({ users: 200, movies: 300, seed: 1 }, "model-a", modelsRoot);
  dirB = await modelDir({ users: 200, movies: 300, seed: 2 }, "model-b", modelsRoot);
  badDir = join(modelsRoot, "model-bad");
  await cp(dirB, badDir, { recursive: true });
  await truncate(join(badDir, "item_factors.f32"), 100);
  model = await loadRecModel(dirA);
  ({ api, url, logDir } = await startApi({ modelDir: dirA, exploreShare: 0.1 }));
});
afterAll(async () => {
  await api.close();
  await rm(modelsRoot, { recursive: true, force: true });
});

const reload = (body?: unknown, token = ADMIN_TOKEN) =>
  fetch(`${url}/admin/reload`, {
    method: "POST",
    headers: { Authorization: `Bearer ${token}`, ...(body ? { "Content-Type": "application/json" } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });

describe("GET /recommend/:userId", () => {
  it("answers one line of 20 distinct comma-separated ids with provenance headers", async () => {
    const r = await get(`${url}/recommend/4`);
    expect(r.status).toBe(200);
    expect(r.headers.get("content-type")).toMatch(/^text\/plain/);
    expect(r.text).toMatch(/^[^\s,]+(,[^\s,]+){19}$/);
    expect(new Set(r.text.split(",")).size).toBe(20);
    const row = model.meta.userIds.indexOf(4);
    const seen = new Set(Array.from(model.seenItems.subarray(model.seenOffsets[row], model.seenOffsets[row + 1]), (i) => model.meta.movieIds[i]));
    expect(r.text.split(",").filter((id) => seen.has(id))).toEqual([]);
    expect(r.headers.get("x-request-id")).toMatch(/\S/);
    expect(r.headers.get("x-release")).toBe("test-rel");
    expect(r.headers.get("x-model")).toBe(model.meta.modelHash);
  });

  it("gives cold-start users a full list, by group when side information is known", async () => {
    const unknown = await get(`${url}/recommend/77777`);
    const withSide = await get(`${url}/recommend/401`); // side-only user (synthetic: odd ids from 2*users+1)
    expect(unknown.status).toBe(200);
    expect(unknown.text.split(",")).toHaveLength(20);
    expect(withSide.text.split(",")).toHaveLength(20);
    expect(withSide.text).not.toBe(unknown.text);
  });

  it("is the same answer again (cache) and keeps the caller's request id", async () => {
    const a = await get(`${url}/recommend/6`);
    const b = await fetch(`${url}/recommend/6`, { headers: { "X-Request-Id": "router-abc.1" } });
    expect(await b.text()).toBe(a.text);
    expect(b.headers.get("x-request-id")).toBe("router-abc.1");
  });

  it("explores 2 of 20 slots (share 0.1) the same way in another process of the same model", async () => {
    const other = await startApi({ modelDir: dirA, exploreShare: 0.1, cacheSize: 0 });
    try {
      for (const user of ["4", "77777"]) {
        const [a, b] = await Promise.all([get(`${url}/recommend/${user}`), get(`${other.url}/recommend/${user}`)]);
        expect(b.text).toBe(a.text);
        expect(a.text.split(",")).toHaveLength(20);
      }
      const plain = await startApi({ modelDir: dirA });
      const explored = (await get(`${url}/recommend/4`)).text.split(",");
      const unexplored = (await get(`${plain.url}/recommend/4`)).text.split(",");
      await plain.api.close();
      expect(explored.filter((id) => !unexplored.includes(id))).toHaveLength(2);
    } finally {
      await other.api.close();
    }
  });

  it("answers 400 with a one-line reason for anything but a non-negative integer", async () => {
    const bad = ["abc", "-1", "1.5", "4294967296", "9".repeat(1000), "%2D1", "%00", "%E0%A4%A", "%EF%BC%91%EF%BC%92", "1%20", "0x1F", "%2B1"];
    for (const id of bad) {
      const r = await get(`${url}/recommend/${id}`);
      expect(r.status, id).toBe(400);
      expect(r.text, id).toMatch(/^user id must be a whole number[^\n]*$/);
      expect(r.text.length).toBeLessThan(200);
    }
    expect((await get(`${url}/recommend/%31%32`)).status).toBe(200); // "12", percent-encoded
    expect((await get(`${url}/recommend/${"1".repeat(5000)}`)).status).toBe(414); // over maxTargetLength
    expect((await get(`${url}/recommend/${"1".repeat(100_000)}`)).status).toBe(431); // over maxHeaderSize
  });

  it("reads the id by core's one rule: %32 and 002 are user 2, and X-User-Id carries the canonical id", async () => {
    const plain = await get(`${url}/recommend/2`);
    expect(plain.headers.get("x-user-id")).toBe("2");
    for (const spelling of ["%32", "002", "%30%30%32", "0000000002"]) {
      const r = await get(`${url}/recommend/${spelling}`);
      expect([r.status, r.text, r.headers.get("x-user-id")], spelling).toEqual([200, plain.text, "2"]);
    }
    for (const id of ["1,2", "00000000002", "%30".repeat(10) + "2", "%3", "1%2C2", "12345678901"]) {
      const r = await get(`${url}/recommend/${id}`);
      expect(r.status, id).toBe(400);
      expect(r.text, id).toMatch(/^user id must be[^\n]*$/);
      expect(r.headers.get("x-user-id"), id).toBeNull(); // no user is known: nobody's answer
    }
  });

  it("survives a flood of garbage and stays fast to answer", async () => {
    const paths = Array.from({ length: 600 }, (_, i) => ["/recommend/x" + i, "/recommend/%FF", "/nope/" + i, `/recommend/${i}`][i % 4]!);
    const statuses = await Promise.all(paths.map((p) => fetch(url + p).then((r) => r.text().then(() => r.status))));
    expect(new Set(statuses)).toEqual(new Set([400, 404, 200]));
    expect((await get(`${url}/healthz`)).status).toBe(200);
  });

  it("answers requests pipelined on one connection in order, each its own user's (the router sends a turn's tries so)", async () => {
    const users = [3, 1, 4, 1, 5];
    const expected = await Promise.all(users.map(async (u) => (await get(`${url}/recommend/${u}`)).text));
    const { port } = new URL(url);
    const socket = connect({ host: "127.0.0.1", port: Number(port) });
    await once(socket, "connect");
    socket.write(users.map((u) => `GET /recommend/${u} HTTP/1.1\r\nHost: api\r\n\r\n`).join(""));
    let data = Buffer.alloc(0);
    const bodies: string[] = [];
    socket.on("data", (chunk: Buffer) => {
      data = Buffer.concat([data, chunk]);
      for (let end = data.indexOf("\r\n\r\n"); end >= 0; end = data.indexOf("\r\n\r\n")) {
        const length = Number(/content-length: (\d+)/i.exec(data.toString("latin1", 0, end))![1]);
        if (data.length < end + 4 + length) break;
        bodies.push(data.toString("utf8", end + 4, end + 4 + length));
        data = data.subarray(end + 4 + length);
      }
      if (bodies.length === users.length) socket.destroy();
    });
    await once(socket, "close");
    expect(bodies).toEqual(expected);
  });
});

describe("operational endpoints", () => {
  it("writes no response log with RECSYS_LOG_RESPONSES=off (what bench/provenance.ts compares against)", async () => {
    const quiet = await startApi({ modelDir: dirA, logResponses: "off" });
    expect((await get(`${quiet.url}/recommend/2`)).status).toBe(200);
    await quiet.api.close();
    expect(await readdir(quiet.logDir).catch(() => [])).toEqual([]);
  });

  it("404s unknown routes in plain text", async () => {
    const r = await get(`${url}/recommend`);
    expect(r.status).toBe(404);
    expect(r.headers.get("content-type")).toMatch(/^text\/plain/);
    expect((await fetch(`${url}/recommend/1`, { method: "DELETE" })).status).toBe(404);
  });

  it("reports liveness, readiness, version and metrics", async () => {
    expect((await get(`${url}/healthz`)).status).toBe(200);
    expect((await get(`${url}/readyz`)).status).toBe(200);
    const version = JSON.parse((await get(`${url}/version`)).text);
    expect(version).toMatchObject({ release: "test-rel", commit: "c0ffee", modelId: "model-a", engine: "synthetic", dataHash: model.meta.dataHash });
    expect(version.loadedAt).toMatch(/^\d{4}-/);
    const metrics = (await get(`${url}/metrics`)).text;
    expect(metrics).toMatch(/recsys_api_requests_total\{route="recommend",status="200"\} \d+/);
    expect(metrics).toMatch(/recsys_api_request_duration_seconds_bucket\{le="0.01",route="recommend"\}/);
    expect(metrics).toContain(`recsys_api_model_info{release="test-rel",commit="c0ffee",model_id="model-a"`);
    expect(metrics).toMatch(/recsys_api_cache_hit_ratio 0\.\d+/);
  });

  it("is not ready (503) before the model is loaded", async () => {
    const early = createApiServer(resolveApiConfig({ modelDir: dirA, logDir: join(await tempDir(), "l") }), { report: () => undefined });
    const server = createServer(early.app).listen(0, "127.0.0.1");
    await new Promise((r) => server.once("listening", r));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    expect((await get(`${base}/readyz`)).status).toBe(503);
    const early503 = await get(`${base}/recommend/%31`);
    expect([early503.status, early503.headers.get("x-user-id")]).toEqual([503, "1"]);
    await new Promise((r) => server.close(r));
  });
});

describe("express app without the fast path", () => {
  it("answers /recommend exactly as the server's fast path does", async () => {
    const server = createServer(api.app).listen(0, "127.0.0.1");
    await new Promise((r) => server.once("listening", r));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    for (const id of ["4", "77777", "%31%32", "abc", "%E0%A4%A"]) {
      const [viaApp, viaServer] = await Promise.all([get(`${base}/recommend/${id}`), get(`${url}/recommend/${id}`)]);
      expect([viaApp.status, viaApp.text], id).toEqual([viaServer.status, viaServer.text]);
    }
    await new Promise((r) => server.close(r));
  });
});

describe("models", () => {
  it("refuses a corrupt artifact at start", async () => {
    const bad = createApiServer(resolveApiConfig({ modelDir: badDir, port: 0, logDir: join(await tempDir(), "l") }), { report: () => undefined });
    await expect(bad.listen()).rejects.toMatchObject({ code: "RECSYS_BAD_ARTIFACT", exitCode: 2 });
    expect(bad.state()).toBeNull();
  });

  it("protects reload with the admin token", async () => {
    expect((await reload(undefined, "wrong-token-wrong-token")).status).toBe(401);
    expect((await fetch(`${url}/admin/reload`, { method: "POST" })).status).toBe(401);
    const r = await reload({ model: 5 });
    expect(r.status).toBe(400);
  });

  it("refuses a corrupt artifact on reload and keeps serving the old model", async () => {
    const r = await reload({ model: badDir });
    expect(r.status).toBe(422);
    expect(await r.json()).toMatchObject({ code: "RECSYS_BAD_ARTIFACT", serving: model.meta.modelHash });
    const after = await get(`${url}/recommend/4`);
    expect(after.status).toBe(200);
    expect(after.headers.get("x-model")).toBe(model.meta.modelHash);
  });

  it("swaps models under concurrent load with zero failed requests", async () => {
    const modelB = await loadRecModel(dirB);
    let stop = false;
    const failures: string[] = [];
    const hashes = new Set<string>();
    let done = 0;
    const worker = async (w: number) => {
      for (let i = 0; !stop; i++) {
        try {
          const r = await fetch(`${url}/recommend/${(w * 1000 + i) % 600}`);
          const text = await r.text();
          if (r.status !== 200 || text.split(",").length !== 20) failures.push(`${r.status} ${text}`);
          hashes.add(r.headers.get("x-model")!);
          done++;
        } catch (err) {
          failures.push(String(err));
        }
      }
    };
    const workers = Array.from({ length: 8 }, (_, w) => worker(w));
    const swaps: number[] = [];
    // Each swap lands amid traffic: wait for 20 more answers before it, and after the last one.
    const answersGo = async () => { const from = done; await vi.waitUntil(() => done >= from + 20 || failures.length > 0, { timeout: 30_000, interval: 5 }); };
    for (const dir of [dirB, badDir, dirA, dirB, dirA, dirB]) {
      await answersGo();
      swaps.push((await reload({ model: dir })).status);
    }
    await answersGo();
    stop = true;
    await Promise.all(workers);
    expect(swaps).toEqual([200, 422, 200, 200, 200, 200]);
    expect(failures).toEqual([]);
    expect(done).toBeGreaterThan(100);
    expect(hashes).toEqual(new Set([model.meta.modelHash, modelB.meta.modelHash]));
    // The cache went with the old model: user 4 (asked before every swap) now gets model B's list.
    const after = await get(`${url}/recommend/4`);
    expect(after.headers.get("x-model")).toBe(modelB.meta.modelHash);
    const day = new Date().toISOString().slice(0, 10);
    expect(after.text).toBe(recommend(modelB, 4, { exploreShare: 0.1, day }).ids.join(","));
  });

  it("reloads on its own with --watch when the directory is replaced", async () => {
    const dir = join(await tempDir(), "watched");
    await cp(dirA, dir, { recursive: true });
    const watched = await startApi({ modelDir: dir, watch: true, watchIntervalMs: 50 });
    try {
      await cp(badDir, dir + ".next", { recursive: true });
      // A bad replacement is refused; then a good one is picked up.
      await rm(dir, { recursive: true });
      await rename(dir + ".next", dir);
      await vi.waitUntil(() => watched.reports.length > 0, { timeout: 30_000, interval: 50 });
      expect(watched.reports[0]).toMatch(/refused.*RECSYS|refused.*truncated/);
      expect((await get(`${watched.url}/recommend/4`)).headers.get("x-model")).toBe(model.meta.modelHash);
      // Replaced by rename, as documented: a copy straight into the watched directory can be read
      // half-written (model.json before its tensors), and nothing changes after that to retry on.
      await cp(dirB, dir + ".next", { recursive: true });
      await rm(dir, { recursive: true });
      await rename(dir + ".next", dir);
      const target = (await loadRecModel(dirB)).meta.modelHash;
      await vi.waitUntil(async () => (await get(`${watched.url}/recommend/4`)).headers.get("x-model") === target, { timeout: 30_000, interval: 50 });
    } finally {
      await watched.api.close();
    }
  });
});

describe("telemetry", () => {
  it("logs every recommend response with the columns of TELEMETRY_HEADER", async () => {
    const ids: string[] = [];
    for (const id of ["8", "10", "bad", "%31%30", "9".repeat(1000)]) ids.push((await get(`${url}/recommend/${id}`)).headers.get("x-request-id")!);
    await api.close();
    const files = await readdir(logDir);
    const text = (await Promise.all(files.map((f) => readFile(join(logDir, f), "utf8")))).join("");
    expect(text.split("\n")[0]).toBe(TELEMETRY_HEADER.join(","));
    for (const id of ids) expect(text).toContain(`,${id},`);
    const line = text.split("\n").find((l) => l.includes(`,${ids[0]},`))!;
    const cols = line.split(",");
    expect(cols).toHaveLength(TELEMETRY_HEADER.length);
    expect(cols.slice(2, 4)).toEqual(["8", "200"]);
    expect(cols.slice(5, 7)).toEqual(["test-rel", "c0ffee"]);
    expect(cols[9]!.split("|")).toHaveLength(20);
    expect(cols[10]).toMatch(/^\d+\|\d+$/); // 0.1 exploration = 2 slots
    // The log keeps the canonical id, and no more than a short excerpt of a bad one.
    const userCol = (requestId: string) => text.split("\n").find((l) => l.includes(`,${requestId},`))!.split(",")[2]!;
    expect(userCol(ids[3]!)).toBe("10");
    expect(userCol(ids[4]!).length).toBeLessThan(40);
  });
});
