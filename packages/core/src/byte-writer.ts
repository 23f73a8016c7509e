/**
 * Writing short text straight into a byte buffer, for log lines encoded on a server's request
 * path: a JS loop for ASCII is cheaper than a call into Buffer#write for strings of a few dozen
 * characters, and none of these builds a string. Each writes at `at` and returns where it ended;
 * the caller makes sure there is room (at most 3 bytes per UTF-16 unit for text).
 *
 *     let at = putText(buf, 0, "user-42");
 *     buf[at++] = 0x2c;
 *     at = putInt(buf, at, 200);
 */

/** `text` as UTF-8. */
export function putText(buf: Buffer, at: number, text: string): number {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0x80) return at + i + buf.write(text.slice(i), at + i, "utf8");
    buf[at + i] = c;
  }
  return at + text.length;
}

/** A non-negative integer in decimal (others as text). */
export function putInt(buf: Buffer, at: number, n: number): number {
  if (!Number.isSafeInteger(n) || n < 0) return putText(buf, at, String(n));
  let digits = 1;
  for (let x = n; x >= 10; x = Math.floor(x / 10)) digits++;
  for (let i = at + digits - 1; i >= at; i--) {
    buf[i] = 0x30 + (n % 10);
    n = Math.floor(n / 10);
  }
  return at + digits;
}

/** A comma (CSV's separator): for `putText(buf, putComma(buf, at), field)`. */
export function putComma(buf: Buffer, at: number): number {
  buf[at] = 0x2c;
  return at + 1;
}

/** Bytes copied as they are. */
export function putBytes(buf: Buffer, at: number, bytes: Uint8Array): number {
  buf.set(bytes, at);
  return at + bytes.length;
}
