// Child-process entry for spawnStubUpstream: `node --import tsx stub-upstream-main.ts '<json options>'`.
import { startStubUpstream } from "./stub-upstream.ts";

const stub = await startStubUpstream(JSON.parse(process.argv[2] ?? "{}"));
process.stdout.write(`listening ${stub.url}\n`);
for (const sig of ["SIGINT", "SIGTERM"] as const) process.once(sig, () => void stub.close().then(() => process.exit(0)));
