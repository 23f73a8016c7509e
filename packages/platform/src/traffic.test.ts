import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { describe, expect, it, vi } from "vitest";
import { createWorld } from "@recsys/simulator";
import { startTraffic } from "./traffic.ts";

describe("live traffic", () => {
  it("asks the service for real, lets users answer, and reports the window's p99 and success", async () => {
    const world = createWorld({ users: 60, movies: 40, seed: 2 });
    const answer = world.movieIds.slice(0, 20).join(",");
    // A service that answers every third request with 503 and always takes at least 30 ms.
    let n = 0;
    const server = createServer((_req, res) => {
      const status = ++n % 3 === 0 ? 503 : 200;
      setTimeout(() => res.writeHead(status, { "content-type": "text/plain" }).end(status === 200 ? answer : "busy"), 30);
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const lines: string[] = [];
    const eventLog = { write: (l: string) => { lines.push(l); } };
    const traffic = startTraffic({ routerUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, world, rps: 60, concurrency: 8, eventLog, seed: 1 });
    // Runs until the figures below have something to show, however slowly the machine serves.
    await vi.waitUntil(() => traffic.stats(60_000).ok > 10 && traffic.stats(60_000).failed > 0 && lines.length > 0, { timeout: 30_000, interval: 20 });
    await traffic.stop();
    server.close();

    const stats = traffic.stats(60_000);
    expect(stats.sent).toBe(stats.ok + stats.failed);
    expect(stats.ok).toBeGreaterThan(10);
    expect(stats.failed).toBeGreaterThan(0);
    expect(stats.successRate).toBeCloseTo(stats.ok / stats.sent, 5);
    expect(stats.p99Ms).toBeGreaterThanOrEqual(30);
    // Some users picked a recommended movie: watch lines in the stream's format for listed ids.
    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines) expect(line).toMatch(/^\S+,\d+,GET \/(data\/m\/[^/]+\/\d+\.mpg|rate\/[^=]+=[1-5])$/);
  });
});
