/**
 * Drops a UTF-8 byte order mark (U+FEFF) from the start of a text. Windows tools write one at the
 * start of a file; left in, it makes the first event line a bad_time reject and the first side
 * record invalid JSON.
 */
export function stripBom(text: string): string {
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}
