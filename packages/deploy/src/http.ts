import { request } from "node:http";

export interface HttpAnswer {
  status: number;
  body: string;
}

/**
 * One small HTTP call on loopback with a hard timeout; resolves `{status: 0}` when nothing
 * answered (refused, reset, timed out) so callers poll without try/catch.
 *
 *     const { status } = await httpCall("GET", "http://127.0.0.1:8083/readyz", { timeoutMs: 500 });
 */
export function httpCall(
  method: string,
  url: string,
  options: { timeoutMs: number; body?: unknown; headers?: Record<string, string> },
): Promise<HttpAnswer & { error?: string }> {
  return new Promise((resolve) => {
    const payload = options.body === undefined ? undefined : JSON.stringify(options.body);
    const headers: Record<string, string> = { ...options.headers };
    if (payload !== undefined) {
      headers["content-type"] = "application/json";
      headers["content-length"] = String(Buffer.byteLength(payload));
    }
    // agent: false: a fresh connection per call, so polling leaves no sockets behind.
    const req = request(url, { method, headers, agent: false, timeout: options.timeoutMs }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (chunk) => (body += chunk));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
      res.on("error", (err) => resolve({ status: 0, body, error: err.message }));
    });
    req.on("timeout", () => req.destroy(new Error(`no answer in ${options.timeoutMs} ms`)));
    req.on("error", (err) => resolve({ status: 0, body: "", error: (err as NodeJS.ErrnoException).code ?? err.message }));
    req.end(payload);
  });
}
