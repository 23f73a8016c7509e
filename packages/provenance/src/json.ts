/** JSON text to a value, or null when it is not JSON: callers validate with zod and report their own input. */
export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}
