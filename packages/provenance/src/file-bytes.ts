import { open } from "node:fs/promises";
import { promisify } from "node:util";
import { gunzip } from "node:zlib";
import { badProvenanceInput } from "./errors.ts";

/** Bytes [start, end) of `file` (fewer if the file ends first). */
export async function readBytes(file: string, start: number, end: number): Promise<Buffer> {
  const fh = await open(file, "r");
  try {
    const bytes = Buffer.allocUnsafe(end - start);
    const { bytesRead } = await fh.read(bytes, 0, bytes.length, start);
    return bytes.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}

/**
 * The content of gzip data (one or more members), in 1 MiB output chunks; bytes that do not
 * inflate are a coded input error naming `where`, as `what` it was meant to be, and the `fix`.
 */
export function inflate(where: string, compressed: Buffer, what: string, fix: string): Promise<Buffer> {
  return promisify(gunzip)(compressed, { chunkSize: 1 << 20 }).catch((err: Error) => {
    throw badProvenanceInput(where, `not a readable ${what} (${err.message}); ${fix}`);
  });
}
