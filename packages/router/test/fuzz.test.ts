import fc from "fast-check";
import { afterAll, beforeAll, describe, it } from "vitest";
import { checkLieScript, lieScriptArb, streamArb } from "./hostile.ts";
import { checkClientRun, startClientRig, startLieRig, type ClientRig, type LieRig } from "./replicas.ts";

// Differential fuzzing of the router (issue 16), seeded and bounded so the file runs in well under
// a minute. FUZZ_SEED replays a run; bench/fuzz-route.ts runs the same properties for longer.
const seed = Number(process.env.FUZZ_SEED ?? 16);

/** fast-check's report names the seed and the shrunk case; say how to replay it. */
async function assertProperty<T>(property: fc.IAsyncProperty<T>, numRuns: number): Promise<void> {
  try {
    await fc.assert(property, { seed, numRuns, endOnFailure: true, includeErrorInReport: true });
  } catch (err) {
    throw new Error(`fuzz failed with seed ${seed} (replay: FUZZ_SEED=${seed}):\n${(err as Error).message}`);
  }
}

/** Every broken rule in full (an assertion diff would elide them). */
function failOn(problems: string[]): void {
  if (problems.length > 0) throw new Error(problems.join("\n"));
}

describe("client request streams through the router to real replicas", () => {
  let rig: ClientRig;
  beforeAll(async () => { rig = await startClientRig(); });
  afterAll(() => rig?.close());

  it("gives every client only its own user's answers, forwards nothing malformed, stays healthy", async () => {
    await assertProperty(fc.asyncProperty(fc.array(streamArb, { minLength: 1, maxLength: 3 }), async (streams) => {
      failOn(await checkClientRun(rig, streams));
    }), 40);
  });
});

describe("hostile upstream answer streams", () => {
  let rig: LieRig;
  beforeAll(async () => { rig = await startLieRig(); });
  afterAll(() => rig?.close());

  it("never passes a lying upstream's stray answer to another user nor into the fallback list", async () => {
    await assertProperty(fc.asyncProperty(lieScriptArb, async (script) => {
      failOn(await checkLieScript(rig.url, rig.upstreams, () => rig.router.state().fallback, script));
    }), 15);
  });
});
