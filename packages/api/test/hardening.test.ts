import { rm } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ApiServer } from "../src/index.ts";
import { ADMIN_TOKEN, modelDir, rawExchange, startApi, tempDir } from "./helpers.ts";

// Small limits so each one is reached with a few bytes and fires after a few checks.
const LIMITS = {
  headersTimeoutMs: 200, requestTimeoutMs: 400, keepAliveTimeoutMs: 100, connectionsCheckingIntervalMs: 20,
  maxHeaderSize: 4096, maxHeadersCount: 20, maxTargetLength: 200,
};

let root: string, api: ApiServer, url: string;

beforeAll(async () => {
  root = await tempDir("api-hardening-");
  const dir = await modelDir({ users: 50, movies: 60 }, "model", root);
  ({ api, url } = await startApi({ modelDir: dir, logDir: join(root, "logs"), ...LIMITS }));
});
afterAll(async () => {
  await api?.close();
  await rm(root, { recursive: true, force: true });
});

const head = (target: string, extra = "") => `GET ${target} HTTP/1.1\r\nHost: api\r\n${extra}\r\n`;
const statusOf = (received: string) => /^HTTP\/1\.1 (\d{3})/.exec(received)?.[1];
/** The status of the first answer, without waiting for the connection to close. */
const firstStatus = async (bytes: string) => statusOf((await rawExchange(url, bytes, { until: (r) => statusOf(r) !== undefined })).received);

/** Sends `line` every few ms, at most `max` times, until the server closes; returns how many went out. */
function trickle(line: string, max: number): { more: (write: (b: string) => boolean) => void; sent: () => number } {
  let sent = 0;
  return {
    more: (write) => {
      const timer = setInterval(() => {
        if (sent >= max || !write(line)) return clearInterval(timer);
        sent++;
      }, 10);
    },
    sent: () => sent,
  };
}

describe("slow clients", () => {
  it("closes a slowloris head with 408 once headersTimeoutMs passes, while the client is still trickling", async () => {
    const slow = trickle("X-Slow: 1\r\n", 1000);
    const r = await rawExchange(url, "GET /recommend/1 HTTP/1.1\r\nHost: api\r\n", { more: slow.more });
    expect(r.closedByServer).toBe(true);
    expect(statusOf(r.received)).toBe("408");
    expect(slow.sent()).toBeLessThan(1000);
  });

  it("closes a trickled admin body with 408 once requestTimeoutMs passes", async () => {
    const slow = trickle("x", 1000);
    const r = await rawExchange(url, `POST /admin/reload HTTP/1.1\r\nHost: api\r\nAuthorization: Bearer ${ADMIN_TOKEN}\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n`, { more: slow.more });
    expect(r.closedByServer).toBe(true);
    expect(statusOf(r.received)).toBe("408");
    expect(slow.sent()).toBeLessThan(1000);
  });

  it("closes an idle keep-alive connection after keepAliveTimeoutMs", async () => {
    const r = await rawExchange(url, head("/recommend/1"));
    expect(r.closedByServer).toBe(true);
    expect(statusOf(r.received)).toBe("200");
  });
});

describe("request heads over the limits", () => {
  it("answers 431 to a header over maxHeaderSize and serves one under it", async () => {
    expect(statusOf((await rawExchange(url, head("/recommend/1", `X-Big: ${"a".repeat(5000)}\r\n`))).received)).toBe("431");
    expect(await firstStatus(head("/recommend/1", `X-Big: ${"a".repeat(3000)}\r\n`))).toBe("200");
  });

  it("refuses more than maxHeadersCount headers with 431 and closes the connection", async () => {
    const lines = (n: number) => Array.from({ length: n }, (_, i) => `X-H${i}: ${i}\r\n`).join("");
    const over = await rawExchange(url, head("/recommend/1", lines(25)) + head("/recommend/2"));
    expect(statusOf(over.received)).toBe("431");
    expect(over.received).not.toContain("HTTP/1.1 200"); // the pipelined request behind it is not read
    expect(await firstStatus(head("/recommend/1", lines(19)))).toBe("200"); // Host + 19 = 20
  });

  it("answers 414 to a request target over maxTargetLength on any path", async () => {
    for (const target of [`/recommend/1?${"a".repeat(300)}`, `/recommend/${"1".repeat(300)}`, `/nope/${"a".repeat(300)}`, `/healthz?${"a".repeat(300)}`]) {
      expect(statusOf((await rawExchange(url, head(target))).received), target.slice(0, 12)).toBe("414");
    }
    expect(await firstStatus(head(`/recommend/1?${"a".repeat(150)}`))).toBe("200");
  });

  it("refuses what nginx refuses and Node lets through: two Host lines (400), an HTTP/2.0 request line (505)", async () => {
    const twoHosts = await rawExchange(url, "GET /recommend/1 HTTP/1.1\r\nHost: api\r\nhost: other\r\n\r\n");
    expect([statusOf(twoHosts.received), twoHosts.closedByServer]).toEqual(["400", true]);
    const h2 = await rawExchange(url, "GET /recommend/1 HTTP/2.0\r\nHost: api\r\n\r\n");
    expect([statusOf(h2.received), h2.closedByServer]).toEqual(["505", true]);
    expect(await firstStatus("GET /recommend/1 HTTP/1.0\r\n\r\n")).toBe("200");
  });

  it("answers 400 and closes on bare-LF line endings and garbage request lines", async () => {
    for (const bytes of ["GET /recommend/1 HTTP/1.1\nHost: api\n\n", "HELLO\r\n\r\n", "GET /recommend/1 HTTP/1.1 extra\r\nHost: api\r\n\r\n", "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03"]) {
      const r = await rawExchange(url, bytes);
      expect(statusOf(r.received), JSON.stringify(bytes)).toBe("400");
      expect(r.closedByServer).toBe(true);
    }
  });
});
