/**
 * The router's differential fuzzer (issue 16) with a longer budget than the test suite's
 * (packages/router/test/fuzz.test.ts runs the same properties for a few dozen runs): generated
 * client request streams through a real router to three real API replicas, then generated lies
 * from two hostile upstreams. Prints the seed, the runs, the requests sent and every violation;
 * exits 1 on a violation. Replay a failure with the printed seed.
 *
 *     npx tsx bench/fuzz-route.ts [--runs 500] [--seed S]
 */
import { parseArgs } from "node:util";
import fc from "fast-check";
import { checkLieScript, lieScriptArb, streamArb, type FuzzStream, type LieScript } from "../packages/router/test/hostile.ts";
import { checkClientRun, startClientRig, startLieRig } from "../packages/router/test/replicas.ts";

const { values: args } = parseArgs({ options: { runs: { type: "string", default: "500" }, seed: { type: "string" } } });
const runs = Number(args.runs);
const seed = args.seed === undefined ? Math.floor(Math.random() * 2 ** 31) : Number(args.seed);
if (!Number.isInteger(runs) || runs < 1 || !Number.isInteger(seed)) {
  console.error("usage: npx tsx bench/fuzz-route.ts [--runs N>=1] [--seed S (integer)]");
  process.exit(2);
}

interface Tally { runs: number; requests: number; violations: string[] }

/** Runs `property` until `numRuns` or the first violation; every run's problems are kept. */
async function fuzz<T>(name: string, arb: fc.Arbitrary<T>, numRuns: number, size: (input: T) => number, check: (input: T) => Promise<string[]>): Promise<Tally> {
  const tally: Tally = { runs: 0, requests: 0, violations: [] };
  const started = performance.now();
  const details = await fc.check(fc.asyncProperty(arb, async (input) => {
    tally.runs++;
    tally.requests += size(input);
    const problems = await check(input);
    tally.violations.push(...problems);
    return problems.length === 0;
  }), { seed, numRuns, endOnFailure: true });
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  console.log(`${name}: ${tally.runs} runs, ${tally.requests} requests, ${tally.violations.length} violations in ${seconds} s`);
  if (details.failed) console.log(`  counterexample: ${JSON.stringify(details.counterexample).slice(0, 2000)}`);
  for (const v of tally.violations.slice(0, 20)) console.log(`  - ${v}`);
  return tally;
}

console.log(`fuzz-route: seed ${seed}, ${runs} client runs, ${Math.ceil(runs / 3)} upstream runs`);
const clientRig = await startClientRig();
const lieRig = await startLieRig();
try {
  const clients = await fuzz("client streams", fc.array(streamArb, { minLength: 1, maxLength: 3 }), runs,
    (streams: FuzzStream[]) => streams.reduce((n, s) => n + s.requests.length, 0), (streams) => checkClientRun(clientRig, streams));
  const lies = await fuzz("upstream lies", lieScriptArb, Math.ceil(runs / 3),
    (script: LieScript) => script.users.length, (script) => checkLieScript(lieRig.url, lieRig.upstreams, () => lieRig.router.state().fallback, script));
  const failed = clients.violations.length + lies.violations.length > 0;
  console.log(failed ? `VIOLATIONS (replay: npx tsx bench/fuzz-route.ts --runs ${runs} --seed ${seed})` : "no violations");
  process.exitCode = failed ? 1 : 0;
} finally {
  await clientRig.close();
  await lieRig.close();
}
