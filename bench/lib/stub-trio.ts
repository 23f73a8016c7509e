// Child-process entry for bench/route.ts: three stub upstreams in one process, so the bench runs
// one busy upstream process rather than three (on a 2-core machine every extra runnable process
// adds waiting for a core to whichever process the measurement is looking at).
// Prints "listening <url> <url> <url>".
import { startStubUpstream } from "@recsys/router";

const stubs = await Promise.all(["stable-1", "stable-2", "canary"].map((name) => startStubUpstream({ name })));
process.stdout.write(`listening ${stubs.map((s) => s.url).join(" ")}\n`);
for (const sig of ["SIGINT", "SIGTERM"] as const) process.once(sig, () => process.exit(0));
