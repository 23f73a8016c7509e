import { createServer, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { runOpenLoop } from "./open-loop.ts";

let server: Server | undefined;
afterEach(() => new Promise<void>((resolve) => {
  if (!server) return resolve();
  server.closeAllConnections();
  server.close(() => resolve());
  server = undefined;
}));

async function listen(handle: (path: string, res: ServerResponse) => void): Promise<string> {
  server = createServer((req, res) => handle(req.url ?? "/", res));
  await new Promise<void>((resolve) => server!.listen(0, "127.0.0.1", resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

const answer = (res: ServerResponse, status = 200) => res.writeHead(status, { "content-type": "text/plain", "content-length": 5 }).end("1,2,3");

describe("runOpenLoop", () => {
  it("sends exactly rate x seconds counted requests, to the paths asked for", async () => {
    const seen: string[] = [];
    const url = await listen((path, res) => { seen.push(path); answer(res); });
    const r = await runOpenLoop({ url, rate: 200, seconds: 1, warmupSeconds: 0.25, connections: 4, path: (i) => `/recommend/${i}` });
    expect(r).toMatchObject({ completed: 200, failed: 0, throughput: 200 });
    expect(seen).toHaveLength(250); // warm-up requests are sent, not counted
    expect(new Set(seen).size).toBe(250);
    expect(seen).toContain("/recommend/249");
  });

  it("charges a stall to every request that fell due during it, not only to those in flight", async () => {
    // The server holds every answer for 200 ms in the middle of the run (from the 80th request, so
    // the stall lands inside the run however late the timers fire). A closed-loop client with
    // 4 connections would see 4 slow requests (1%); requests are due at 200/s whatever the
    // server does, so ~40 fell due in the stall and half of them waited over 100 ms.
    const held: ServerResponse[] = [];
    let holding = false;
    let n = 0;
    const url = await listen((_path, res) => {
      if (++n === 80) {
        holding = true;
        setTimeout(() => { holding = false; for (const r of held.splice(0)) answer(r); }, 200);
      }
      if (holding) held.push(res);
      else answer(res);
    });
    const r = await runOpenLoop({ url, rate: 200, seconds: 1, warmupSeconds: 0, connections: 4, path: () => "/" });
    expect(r.completed).toBe(200);
    expect(r.latencyMs.p90).toBeGreaterThan(50);
    expect(r.latencyMs.max).toBeGreaterThanOrEqual(190);
  });

  it("counts non-2xx answers and broken connections as failed", async () => {
    let n = 0;
    const url = await listen((_path, res) => {
      n++;
      if (n % 10 === 0) res.socket?.destroy();
      else answer(res, n % 10 === 5 ? 503 : 200);
    });
    const r = await runOpenLoop({ url, rate: 100, seconds: 1, warmupSeconds: 0, connections: 4, path: () => "/" });
    expect(r.failed).toBeGreaterThanOrEqual(15);
    expect(r.completed + r.failed).toBe(100);
  });
});
