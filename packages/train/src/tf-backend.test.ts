import { afterAll, describe, expect, it } from "vitest";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadTf } from "./tf-backend.ts";

const empty = await mkdtemp(join(tmpdir(), "tf-backend-"));
afterAll(() => rm(empty, { recursive: true, force: true }));

describe("loadTf", () => {
  // What the Docker image does if its bundle lacks the .wasm files: train on, slower, and say why in one line.
  it("falls back to the pure-JS cpu backend with one line naming the missing wasm binary", async () => {
    const lines: string[] = [];
    const tf = await loadTf((line) => lines.push(line), { wasmDir: empty });
    expect(tf.getBackend()).toBe("cpu");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(`wasm backend unavailable (${join(empty, "tfjs-backend-wasm-simd.wasm")} not found)`);
    expect(lines[0]).toMatch(/using @tensorflow\/tfjs on its pure-JS cpu backend$/);
    expect(Array.from(tf.tidy(() => tf.matMul(tf.tensor2d([[1, 2]]), tf.tensor2d([[3], [4]]))).dataSync())).toEqual([11]);
  });
});
