import { createHash } from "node:crypto";
import type { ModelMeta } from "./schema.ts";

export function sha256(bytes: Uint8Array | string): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/**
 * The model's identity: sha256 of the metadata without `modelHash` (keys in a fixed order,
 * since the tensors' own sha256s are part of it, this covers every byte of the artifact).
 */
export function computeModelHash(meta: Omit<ModelMeta, "modelHash">): string {
  return sha256(stableStringify(meta));
}

/** JSON with object keys sorted, so equal content gives equal bytes whatever the insertion order. */
export function stableStringify(value: unknown): string {
  if (Array.isArray(value)) return "[" + value.map(stableStringify).join(",") + "]";
  if (value && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined);
    entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return "{" + entries.map(([k, v]) => JSON.stringify(k) + ":" + stableStringify(v)).join(",") + "}";
  }
  return JSON.stringify(value);
}
