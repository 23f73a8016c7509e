/**
 * How long one canary analysis takes on a window of N requests (what the deploy loop pays every
 * few seconds). Run: npx tsx bench/canary.ts [requests=100000]
 */
import { analyzeCanary } from "@recsys/canary";
import { syntheticTraffic } from "../packages/canary/test/synthetic.ts";

const n = Number(process.argv[2] ?? 100_000);
let t = performance.now();
const traffic = syntheticTraffic([{ id: "c", share: 0.2 }, { id: "r1", share: 0.4 }, { id: "r2", share: 0.4 }], n, 7, 12 * 3_600_000);
console.log(`generated ${traffic.requests.length} requests, ${traffic.watches.length} watches in ${(performance.now() - t).toFixed(0)} ms`);
for (let run = 0; run < 5; run++) {
  t = performance.now();
  const a = analyzeCanary({ requests: traffic.requests, watches: traffic.watches, canary: "c", windowStartMs: traffic.startMs, windowEndMs: traffic.endMs });
  console.log(`analyzeCanary: ${(performance.now() - t).toFixed(1)} ms -> ${a.verdict}`);
}
