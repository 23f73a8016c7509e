/**
 * How long finding one response takes among many logged ones: the linear scan of every file
 * against the response index (first lookup builds it, later ones read the files it points to).
 * Lines are the API's own format (20 ids, realistic request ids from 4 processes), written to a
 * temp directory in files of the API's rotation size and removed at the end.
 *
 *     npx tsx bench/provenance-trace.ts [responses=500000] [fileMiB=64]
 */
import { mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openResponseLog } from "@recsys/api";
import { candidateSegments, findResponse, responseFiles } from "@recsys/provenance";

const total = Number(process.argv[2] ?? 500_000);
const fileMiB = Number(process.argv[3] ?? 64);
const dir = await mkdtemp(join(tmpdir(), "bench-trace-"));
try {
  const prefixes = ["0a1b2c3d", "4e5f6a7b", "8c9d0e1f", "2a3b4c5d"];
  const ids = Array.from({ length: 20 }, (_, i) => `movie+${1000 + i * 37}+${1950 + i}`).join("|");
  const log = await openResponseLog({ dir, flushMs: 1000, maxBytes: fileMiB << 20 });
  const start = Date.UTC(2026, 11, 1);
  for (let i = 0; i < total; i++) {
    const p = prefixes[Math.floor((i / total) * prefixes.length)]!;
    log.append({
      timeMs: start + i * 10, requestId: `${p}-${(i + 1).toString(36)}`, userId: String(i % 50_000), status: 200, latencyMs: 0.4,
      release: "r20261201-054053-f5efc4d6", commit: "0515ec6ff95140ae488c53139ddaa776b499499d", modelHash: "f5efc4d6".repeat(8),
      dataHash: "a41f".repeat(8), result: ids, exploreSlots: "3|17",
    });
    if (i % 20_000 === 0) await log.flush();
  }
  await log.close();
  const files = await responseFiles([dir]);
  const target = `${prefixes[2]}-${(Math.floor(total * 0.6)).toString(36)}`;
  const time = async (label: string, fn: () => Promise<unknown>) => {
    const t0 = performance.now();
    await fn();
    console.log(`${label.padEnd(44)} ${(performance.now() - t0).toFixed(1)} ms`);
  };
  let bytes = 0;
  for (const f of files) bytes += (await stat(f)).size;
  console.log(`${total} responses in ${files.length} files of up to ${fileMiB} MiB: ${(bytes / total).toFixed(1)} bytes per response`);
  await time("linear scan of every file", () => findResponse(files, { requestId: target }));
  const index = join(dir, "index.json");
  await time("first indexed lookup (builds the index)", async () => findResponse(await candidateSegments(index, files, target), { requestId: target }));
  await time("indexed lookup", async () => findResponse(await candidateSegments(index, files, target), { requestId: target }));
  const other = `${prefixes[0]}-${(17).toString(36)}`;
  await time("indexed lookup, another id", async () => findResponse(await candidateSegments(index, files, other), { requestId: other }));
} finally {
  await rm(dir, { recursive: true, force: true });
}
