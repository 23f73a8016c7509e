import { createRouter, type Release, type Router, type RouterConfigInput } from "@recsys/router";

export const TOKEN = "test-token-0123456789";

/** A router on ephemeral loopback ports (public and admin) with fast health checks; close it in afterEach. */
export async function startRouter(releases: Release[] | RouterConfigInput["releases"], extra: Partial<RouterConfigInput> = {}): Promise<{ router: Router; url: string; adminUrl: string }> {
  const router = createRouter({
    port: 0, host: "127.0.0.1", adminToken: TOKEN, releases, admin: { port: 0 },
    healthCheck: { intervalMs: 200, timeoutMs: 1000 },
    ...extra,
  }, { onError: () => {} });
  const { url, adminUrl } = await router.listen();
  return { router, url, adminUrl };
}

export interface Answer { status: number; release: string; upstream: string; body: string }

export async function recommend(url: string, userId: string | number): Promise<Answer> {
  const res = await fetch(`${url}/recommend/${userId}`);
  return { status: res.status, release: res.headers.get("x-release") ?? "", upstream: res.headers.get("x-upstream") ?? "", body: await res.text() };
}

export async function admin(url: string, method: "GET" | "POST", path: string, body?: unknown, token: string | null = TOKEN): Promise<{ status: number; json: any }> {
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (token !== null) headers.authorization = `Bearer ${token}`;
  const res = await fetch(`${url}${path}`, { method, headers, body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body) });
  return { status: res.status, json: await res.json() };
}

/** Counts answers per key over `users` sequential-id users, `concurrency` at a time. */
export async function tally(url: string, users: number, key: (a: Answer) => string, concurrency = 16): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  let next = 0;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < users) {
      const a = await recommend(url, next++);
      counts.set(key(a), (counts.get(key(a)) ?? 0) + 1);
    }
  }));
  return counts;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls until `check` is true (health checks run on their own clock). */
export async function until(check: () => boolean, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error("condition not met in time");
    await sleep(20);
  }
}
