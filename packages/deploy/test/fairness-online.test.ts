import { appendFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { Agent, request } from "node:http";
import { afterAll, describe, expect, it } from "vitest";
import { formatWatchLine } from "@recsys/core";
import { createProcessDriver, startPlatform, type Platform } from "@recsys/deploy";
import { USERS, recsys, tempDir, writeTestModel } from "./fixtures.ts";

// `recsys fairness online` on the logs of a real short run: a platform (real router, real API
// processes) serves two releases (the initial one, then a promoted canary) to simulated users;
// men watch the first movie of every list, women never do. The command's per-release, per-group
// counts must match what the users saw.
const isWoman = (user: number) => user % 3 === 0;

describe("recsys fairness online (logs of a real run)", () => {
  let platform: Platform | undefined;
  afterAll(async () => { await platform?.stop(); });

  it("prints the follow rate per release and per group, matching what the simulated users did", async () => {
    const root = await tempDir("online");
    const logDir = join(root, "replicas"), users = join(root, "users.jsonl"), watches = join(root, "events.log");
    await writeFile(users, Array.from({ length: USERS }, (_, i) => JSON.stringify({ user_id: i + 1, gender: isWoman(i + 1) ? "F" : "M", age: 20 + ((i * 7) % 45) })).join("\n") + "\n");
    await writeFile(watches, "");
    platform = await startPlatform({ modelDir: await writeTestModel(join(root, "m1"), 1), driver: createProcessDriver({ logDir }), stateDir: join(root, "state"), replicas: 1 });
    const seen: Record<string, { F: number; M: number }> = {};
    const agent = new Agent({ keepAlive: true, maxSockets: 2 });
    let stopped = false, n = 0;
    const ask = (user: number) => new Promise<void>((resolve) => {
      request(`${platform!.routerUrl}/recommend/${user}`, { agent }, (res) => {
        let body = "";
        res.on("data", (c) => (body += c));
        res.on("end", async () => {
          if (res.statusCode === 200 && body !== "") {
            const counts = (seen[String(res.headers["x-release"])] ??= { F: 0, M: 0 });
            counts[isWoman(user) ? "F" : "M"]++;
            // The watch starts as the answer arrives: after the API stamped its log line, and before
            // this user asks again (a watch after the next request belongs to the next list).
            if (!isWoman(user)) await appendFile(watches, formatWatchLine(Date.now(), user, body.split(",")[0]!, 0) + "\n");
          }
          resolve();
        });
      }).on("error", () => resolve()).end();
    });
    const loop = (async () => { while (!stopped) await ask(1 + (n++ % USERS)); })();
    try {
      const record = await platform.deploy(await writeTestModel(join(root, "m2"), 2), { canaryWeight: 50, intervalMs: 500, drainMs: 200, canary: { minRequests: 60, minRequestsForRollback: 20 } });
      expect(record.verdict).toBe("promoted");
      const more = n + 60;
      while (n < more) await new Promise((r) => setTimeout(r, 50));
    } finally {
      stopped = true;
      await loop;
      agent.destroy();
    }
    await platform.stop(); // replicas flush their response logs
    platform = undefined;
    // A later, unrelated viewing: every request's 30 s follow window has ended by then.
    await appendFile(watches, formatWatchLine(Date.now() + 60_000, USERS + 500, "later+movie+2000", 0) + "\n");

    const r = await recsys(["fairness", "online", "--events", watches, "--responses", logDir, "--users", users, "--follow-window", "30s", "--json"]);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { releases: { release: string; overall: { eligible: number }; groups: { attribute: string; group: string; eligible: number; follows: number; rate: number }[]; spread: Record<string, { highest: string; lowest: string; difference: number }> }[] };
    expect(out.releases.map((x) => x.release).sort()).toEqual(Object.keys(seen).sort());
    expect(out.releases).toHaveLength(2);
    for (const rel of out.releases) {
      const gender = (g: string) => rel.groups.find((x) => x.attribute === "gender" && x.group === g)!;
      expect(gender("F")).toMatchObject({ eligible: seen[rel.release]!.F, follows: 0, rate: 0 });
      expect(gender("M")).toMatchObject({ eligible: seen[rel.release]!.M, follows: seen[rel.release]!.M, rate: 1 });
      expect(rel.overall.eligible).toBe(seen[rel.release]!.F + seen[rel.release]!.M);
      expect(rel.spread.gender).toEqual({ highest: "M", lowest: "F", difference: 1 });
    }
    const text = await recsys(["fairness", "online", "--events", watches, "--responses", logDir, "--users", users, "--follow-window", "30s"]);
    expect(text.stdout).toMatch(/gender=F +0\.0% \[0\.0%, [\d.]+%\] of \d+/);
  }, 150_000);
});
