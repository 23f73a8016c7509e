import { join } from "node:path";
import { expect, it } from "vitest";
import { createProcessDriver, startPlatform } from "@recsys/deploy";
import { tempDir, writeTestModel } from "./fixtures.ts";

it("stop() during a deploy rolls the canary back and stops every process", async () => {
  const root = await tempDir("stop");
  const driver = createProcessDriver({ logDir: join(root, "replicas") });
  const platform = await startPlatform({ modelDir: await writeTestModel(join(root, "m1"), 1), driver, stateDir: join(root, "state"), replicas: 1 });
  let live!: () => void;
  const canaryLive = new Promise<void>((resolve) => (live = resolve));
  // No traffic: the analysis can only say "continue", so the deploy would wait the whole max-wait.
  const deploy = platform.deploy(await writeTestModel(join(root, "m2"), 2), { intervalMs: 200, maxWaitMs: 60_000, log: (l) => l.startsWith("canary") && live() });
  await canaryLive;
  expect(driver.list()).toHaveLength(2);
  await platform.stop();
  await expect(deploy).resolves.toMatchObject({ verdict: "rolled-back", reason: "deploy aborted" });
  expect(driver.list()).toEqual([]);
}, 60_000);
