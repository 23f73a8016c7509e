// Child process for atomic.test.ts: starts an atomic write of TARGET, sends half the new content,
// says "half" on stdout and then stalls until it is killed (SIGKILL between write and rename).
import { writeFileAtomic } from "../src/index.ts";

const [target, size] = [process.argv[2]!, Number(process.argv[3])];

async function* content(): AsyncGenerator<Uint8Array> {
  yield new Uint8Array(size / 2).fill(0x6e);
  process.stdout.write("half\n");
  await new Promise(() => setInterval(() => {}, 60_000));
}

await writeFileAtomic(target, content());
