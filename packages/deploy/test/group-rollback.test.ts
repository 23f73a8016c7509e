import { setTimeout as delay } from "node:timers/promises";
import { appendFile, readFile, writeFile } from "node:fs/promises";
import { basename, join } from "node:path";
import { Agent, request } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createRng, formatWatchLine } from "@recsys/core";
import { createFaultyDriver, createProcessDriver, readReleases, startPlatform, type Platform, type ReplicaDriver } from "@recsys/deploy";
import { USERS, tempDir, writeTestModel } from "./fixtures.ts";

// Every third user is a woman. The canary model ("m2-women-bad") is a real API process behind a
// proxy that answers women with a list nobody watches; everyone else gets its real answers.
const isWoman = (user: number) => user % 3 === 0;
const JUNK = Array.from({ length: 20 }, (_, i) => `nobody+watches+${i}+1999`).join(",");

describe("canary rolled back for one group's regression (real router, real API processes)", () => {
  let root: string;
  let platform: Platform;
  let driver: ReplicaDriver;

  beforeAll(async () => {
    root = await tempDir("groups");
    const logDir = join(root, "replicas");
    driver = createFaultyDriver(createProcessDriver({ logDir }), {
      logDir, faultsFor: (spec) => (basename(spec.modelDir) === "m2-women-bad" ? { answerFor: (user) => (isWoman(Number(user)) ? JUNK : null) } : null),
    });
    await writeTestModel(join(root, "m1"), 1);
    platform = await startPlatform({ modelDir: join(root, "m1"), driver, stateDir: join(root, "state"), replicas: 1 });
  }, 60_000);

  afterAll(async () => {
    await platform?.stop();
    expect(driver.list()).toEqual([]);
  });

  it("a canary better overall but significantly worse for women is rolled back, and the record and report name the group", { timeout: 150_000 }, async () => {
    const users = join(root, "users.jsonl"), watches = join(root, "watches.log");
    await writeFile(users, Array.from({ length: USERS }, (_, i) => JSON.stringify({ user_id: i + 1, gender: isWoman(i + 1) ? "F" : "M", age: 20 + ((i * 7) % 45) })).join("\n") + "\n");
    await writeFile(watches, "");
    // Simulated users: they like the canary model's lists far better (follow 90% vs 20% of stable's)
    // and never watch the junk the canary serves women, so pooled the canary still leads by about
    // 0.6 to 0.2: a margin that holds even when a loaded machine pushes some watches out of the
    // follow window (60% vs 30% once measured below stable). Each follow is a watch line right away.
    const rng = createRng(9);
    const agent = new Agent({ keepAlive: true, maxSockets: 8 });
    let stopped = false;
    const ask = (user: number) => new Promise<void>((resolve) => {
      const req = request(`${platform.routerUrl}/recommend/${user}`, { agent, timeout: 800 }, (res) => {
        let body = "";
        res.on("data", (c) => (body += c));
        res.on("end", () => {
          const first = body.split(",")[0]!;
          const likes = String(res.headers["x-release"]) === stableId ? 0.2 : 0.9;
          const follows = res.statusCode === 200 && !first.startsWith("nobody+") && rng.next() < likes;
          (follows ? appendFile(watches, formatWatchLine(Date.now(), user, first, 0) + "\n") : Promise.resolve()).then(() => resolve());
        });
      });
      req.on("timeout", () => req.destroy());
      req.on("error", () => resolve());
      req.end();
    });
    const stableId = (await platform.status()).state.stable.releaseId;
    const loops = Array.from({ length: 4 }, async (_, k) => {
      // Paced (about 40 requests a second in all): each of the 60 users comes back every ~1.5 s, well
      // outside the 250 ms follow window, so a watch counts for the answer that caused it only.
      for (let n = k; !stopped; n += 4) { await ask(1 + ((n * 7919) % USERS)); await delay(100); }
    });
    try {
      const record = await platform.deploy(await writeTestModel(join(root, "m2-women-bad"), 2), {
        canaryWeight: 50, intervalMs: 1000, maxWaitMs: 90_000, drainMs: 200, watchesPath: watches, usersPath: users,
        // Promotion waits for 600 canary requests: by then the women's group has its samples too. The
        // test models rank the same 40 movies, so a short follow window keeps one request's watch from
        // counting for the same user's next request.
        canary: { minRequests: 600, minRequestsForRollback: 20, minSamplesForQuality: 60, minSamplesPerGroup: 40, followWindowMs: 250 },
      });
      expect(record.verdict).toBe("rolled-back");
      expect(record.reason).toMatch(/^group follow rate: canary significantly WORSE for .*gender=F \(canary 0\.00% of \d+ vs stable/);
      const evidence = record.evidence as { tests: { quality: { diff: number }; groups: { worse: string[] } } };
      expect(evidence.tests.groups.worse).toContain("gender=F");
      expect(evidence.tests.groups.worse).not.toContain("gender=M");
      // Better overall: the canary's follow rate is above stable's when all users are pooled.
      expect(evidence.tests.quality.diff).toBeGreaterThan(0);
      expect((await readReleases(join(root, "state", "releases.jsonl"))).at(-1)!.reason).toBe(record.reason);
      const html = await readFile(join(root, "state", "reports", `${record.releaseId}.html`), "utf8");
      expect(html).toContain("<h2>Per user group</h2>");
      expect(html).toMatch(/<td>gender=F<\/td>.*<td class="fail">fail<\/td>/);
    } finally {
      stopped = true;
      await Promise.all(loops);
      agent.destroy();
    }
  });
});
