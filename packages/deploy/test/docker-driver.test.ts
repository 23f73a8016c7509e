import { join } from "node:path";
import Docker from "dockerode";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDockerDriver, DOCKER_LABELS, type Replica } from "@recsys/deploy";
import { buildRecsysImage, dockerUnavailableReason, warnSkipped } from "../../../docker/test-support.ts";
import { replicaDriverContract } from "./driver-contract.ts";
import { tempDir, writeTestModel } from "./fixtures.ts";

// Runs against a real engine; without one the file is skipped, and says so on stderr.
const unavailable = await dockerUnavailableReason();
if (unavailable) warnSkipped("packages/deploy/test/docker-driver.test.ts", unavailable);
const docker = new Docker();
const IMAGE = "recsys:latest";

const alive = async (r: Replica) => {
  const state = await docker.getContainer(r.handle).inspect().then((c) => c.State.Running, () => false);
  return state;
};

describe.skipIf(unavailable !== null)("docker driver (real engine)", () => {
  beforeAll(async () => {
    await buildRecsysImage(false);
  }, 600_000);

  describe("the ReplicaDriver contract", () => {
    replicaDriverContract("docker", {
      make: (logDir) => createDockerDriver({ image: IMAGE, logDir, graceMs: 3000, env: { RECSYS_GIT_COMMIT: "c0ffee" } }),
      alive,
      startFailure: /model .*missing/,
    });
  });

  describe("what docker shows", () => {
    let root: string;
    const driver = () => createDockerDriver({ image: IMAGE, logDir: join(root, "logs"), graceMs: 2000, env: { RECSYS_GIT_COMMIT: "abc123" } });
    const started: Replica[] = [];
    beforeAll(async () => (root = await tempDir("docker-labels")));
    afterAll(async () => {
      for (const r of started) await driver().stop(r);
    });

    it("labels the container with release, model hash, data hash and commit, and finds it again after a restart", async () => {
      const model = await writeTestModel(join(root, "m2"), 2);
      const replica = await driver().start({ releaseId: "rel-labels", modelDir: model });
      started.push(replica);
      const info = await docker.getContainer(replica.handle).inspect();
      const labels = info.Config.Labels;
      const version = await (await fetch(`${replica.url}/version`)).json() as Record<string, unknown>;
      expect(labels[DOCKER_LABELS.release]).toBe("rel-labels");
      expect(labels[DOCKER_LABELS.modelHash]).toMatch(/^[0-9a-f]{16,}$/);
      expect(labels[DOCKER_LABELS.dataHash]).toBe("d41d8cd98f00b204e9800998ecf8427e");
      expect(labels[DOCKER_LABELS.commit]).toBe("abc123");
      expect(JSON.stringify(version)).toContain(labels[DOCKER_LABELS.modelHash]!.slice(0, 12));
      // A deploying process that restarted knows nothing but the engine.
      const found = await driver().recover();
      expect(found.map((r) => [r.id, r.handle, r.url])).toContainEqual([replica.id, replica.handle, replica.url]);
    }, 120_000);

    it("refuses an image that does not exist with a coded error that says how to build it", async () => {
      const model = await writeTestModel(join(root, "m3"), 3);
      const bad = createDockerDriver({ image: "recsys:no-such-tag", logDir: join(root, "logs") });
      await expect(bad.start({ releaseId: "r-missing", modelDir: model })).rejects.toMatchObject({ code: "DEPLOY_DOCKER", message: expect.stringMatching(/build-image\.sh/) });
    });
  });
});
