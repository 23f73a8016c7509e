import { once } from "node:events";
import { connect, createServer, type Server, type Socket } from "node:net";
import fc from "fast-check";

/**
 * Hostile peers for the router's safety, fuzz and fault tests: a raw client that writes any bytes
 * split anywhere and reads the answers back, and raw upstreams that lie about framing, answer
 * twice, close early or hang. Test code may speak HTTP by hand here: it plays the attacker.
 */

export interface RawAnswer { status: number; headers: Record<string, string>; body: string }

/**
 * Splits a byte stream of HTTP/1.1 answers, one per entry of `methods` (HEAD answers have no
 * body); 1xx interim answers are skipped. Stops at the first incomplete or unparsable answer.
 */
export function parseAnswers(data: Buffer, methods: readonly string[]): RawAnswer[] {
  const out: RawAnswer[] = [];
  let at = 0;
  while (out.length < methods.length) {
    const end = data.indexOf("\r\n\r\n", at);
    if (end < 0) break;
    const lines = data.subarray(at, end).toString("latin1").split("\r\n");
    const m = /^HTTP\/1\.[01] (\d{3})/.exec(lines[0]!);
    if (!m) break;
    const status = Number(m[1]);
    const headers: Record<string, string> = {};
    for (const line of lines.slice(1)) {
      const colon = line.indexOf(":");
      headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
    }
    at = end + 4;
    if (status < 200) continue;
    if (methods[out.length] === "HEAD" || status === 204 || status === 304) {
      out.push({ status, headers, body: "" });
      continue;
    }
    const body = readBody(data, at, headers);
    if (!body) break;
    out.push({ status, headers, body: body.text });
    at = body.next;
  }
  return out;
}

function readBody(data: Buffer, at: number, headers: Record<string, string>): { text: string; next: number } | null {
  if (headers["content-length"] !== undefined) {
    const next = at + Number(headers["content-length"]);
    return next <= data.length ? { text: data.subarray(at, next).toString(), next } : null;
  }
  if (/chunked/i.test(headers["transfer-encoding"] ?? "")) {
    const parts: Buffer[] = [];
    for (;;) {
      const eol = data.indexOf("\r\n", at);
      if (eol < 0) return null;
      const size = parseInt(data.subarray(at, eol).toString(), 16);
      if (size === 0) return { text: Buffer.concat(parts).toString(), next: eol + 4 };
      if (eol + 2 + size > data.length) return null;
      parts.push(data.subarray(eol + 2, eol + 2 + size));
      at = eol + 4 + size;
    }
  }
  return { text: data.subarray(at).toString(), next: data.length };
}

export interface RawExchange { data: Buffer; answers: RawAnswer[]; closed: boolean }

/**
 * Connects to 127.0.0.1:port, writes `chunks` one per event-loop turn (or `gapMs` apart), and
 * reads until the server closes, `methods.length` answers are in, or `timeoutMs` passes (then
 * `closed` is false). The socket is always destroyed before this resolves.
 */
export async function rawExchange(port: number, chunks: readonly (string | Buffer)[], methods: readonly string[], opts: { gapMs?: number; timeoutMs?: number } = {}): Promise<RawExchange> {
  const socket = connect(port, "127.0.0.1");
  const parts: Buffer[] = [];
  let closed = false;
  let timer: NodeJS.Timeout | undefined;
  const done = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, opts.timeoutMs ?? 5000);
    socket.on("data", (chunk: Buffer) => {
      parts.push(chunk);
      if (parseAnswers(Buffer.concat(parts), methods).length >= methods.length) resolve();
    });
    socket.on("error", () => {});
    socket.on("close", () => { closed = true; resolve(); });
  });
  await once(socket, "connect");
  for (const chunk of chunks) {
    if (socket.destroyed) break;
    socket.write(chunk);
    await new Promise((r) => (opts.gapMs ? setTimeout(r, opts.gapMs) : setImmediate(r)));
  }
  await done;
  clearTimeout(timer);
  socket.destroy();
  const data = Buffer.concat(parts);
  return { data, answers: parseAnswers(data, methods), closed };
}

/**
 * A slowloris client: sends `prefix`, then `text` one byte every `gapMs`, and resolves once the
 * connection closes, with what the server answered. If the server has not closed it `graceMs`
 * after the last byte, the client gives up (`closedByServer` false), so the loop always ends.
 */
export async function trickle(port: number, prefix: string, text: string, gapMs: number, graceMs = 3000): Promise<{ answer: string; bytesSent: number; closedByServer: boolean }> {
  const socket = connect(port, "127.0.0.1");
  let answer = "";
  let sent = 0;
  let closedByServer = true;
  let giveUp: NodeJS.Timeout | undefined;
  socket.on("data", (chunk: Buffer) => { answer += chunk.toString("latin1"); });
  socket.on("error", () => {});
  const closed = once(socket, "close");
  await once(socket, "connect");
  socket.write(prefix);
  const timer = setInterval(() => {
    if (socket.destroyed) return clearInterval(timer);
    if (sent < text.length) return void socket.write(text[sent++]!);
    clearInterval(timer);
    giveUp = setTimeout(() => { closedByServer = false; socket.destroy(); }, graceMs);
  }, gapMs);
  await closed;
  clearInterval(timer);
  clearTimeout(giveUp);
  return { answer, bytesSent: sent, closedByServer };
}

/** The ids a hostile upstream answers for `user`: 20 of them, each naming the user. */
export const hostileIds = (user: string): string[] => Array.from({ length: 20 }, (_, k) => `u${user}m${String(k).padStart(2, "0")}`);

/** What a hostile upstream does with one /recommend request. */
export type Lie =
  | { kind: "honest" }
  /** Content-Length covers only the first ten ids; the rest follow as stray bytes. */
  | { kind: "short" }
  /** The honest answer, then `delayMs` later a second complete answer for `other`. */
  | { kind: "extra"; other: string; delayMs: number }
  /** Another user's answer, labelled with that user's X-User-Id (a shifted answer). */
  | { kind: "wrongUser"; other: string }
  /** Closes after part of the head, or after part of the body. */
  | { kind: "close"; at: "head" | "body" }
  /** The honest answer in `pieces` writes `gapMs` apart. */
  | { kind: "slow"; pieces: number; gapMs: number }
  | { kind: "garbage" }
  | { kind: "hang" };

export interface RecordedRequest { method: string; target: string; head: string }

export interface HostileUpstream {
  url: string;
  port: number;
  /** Every request head received, /readyz included, in arrival order. */
  requests: RecordedRequest[];
  /** The /recommend requests only. */
  recommends(): RecordedRequest[];
  /** Chooses the lie for each /recommend request (default: honest). */
  setLies(next: (user: string, n: number) => Lie): void;
  close(): Promise<void>;
}

const answer = (status: number, body: string, extra = ""): string =>
  `HTTP/1.1 ${status} X\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(body)}\r\n${extra}\r\n${body}`;

const userAnswer = (user: string): string => answer(200, hostileIds(user).join(","), `X-User-Id: ${user}\r\n`);

/**
 * A raw upstream on 127.0.0.1 that records every request and answers /recommend/<id> with
 * {@link hostileIds} (X-User-Id set), lying as `setLies` says; /readyz, /healthz and /version
 * answer honestly so health checks keep it in rotation. Pipelined requests are answered in order.
 */
export async function startHostileUpstream(): Promise<HostileUpstream> {
  const requests: RecordedRequest[] = [];
  let lies: (user: string, n: number) => Lie = () => ({ kind: "honest" });
  let served = 0;
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => {});
    let pending = Buffer.alloc(0);
    let queue = Promise.resolve();
    socket.on("data", (chunk: Buffer) => {
      pending = Buffer.concat([pending, chunk]);
      for (let end = pending.indexOf("\r\n\r\n"); end >= 0; end = pending.indexOf("\r\n\r\n")) {
        const head = pending.subarray(0, end).toString("latin1");
        pending = pending.subarray(end + 4);
        const [method = "", target = ""] = head.split("\r\n", 1)[0]!.split(" ");
        requests.push({ method, target, head });
        queue = queue.then(() => respond(socket, target));
      }
    });
  });
  // The lie is chosen when the answer is due, so a script set between runs applies at once.
  const respond = async (socket: Socket, target: string): Promise<void> => {
    if (socket.destroyed) return;
    const m = /^\/recommend\/([^/?]+)/.exec(target);
    if (!m) {
      const known: Record<string, string> = { "/readyz": "ready", "/healthz": "ok", "/version": '{"release":"hostile"}' };
      socket.write(known[target] !== undefined ? answer(200, known[target]!) : answer(404, "not found"));
      return;
    }
    await tell(socket, m[1]!, lies(m[1]!, served++));
  };
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    recommends: () => requests.filter((r) => r.target.startsWith("/recommend/")),
    setLies: (next) => { lies = next; },
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(r));
    },
  };
}

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function tell(socket: Socket, user: string, lie: Lie): Promise<void> {
  const honest = userAnswer(user);
  switch (lie.kind) {
    case "honest": socket.write(honest); return;
    case "short": {
      const ids = hostileIds(user);
      const claimed = ids.slice(0, 10).join(",");
      socket.write(`HTTP/1.1 200 X\r\nContent-Length: ${claimed.length}\r\nX-User-Id: ${user}\r\n\r\n${ids.join(",")}`);
      return;
    }
    case "extra":
      socket.write(honest);
      if (lie.delayMs > 0) await pause(lie.delayMs);
      if (!socket.destroyed) socket.write(userAnswer(lie.other));
      return;
    case "wrongUser": socket.write(userAnswer(lie.other)); return;
    case "close":
      socket.end(lie.at === "head" ? honest.slice(0, 20) : honest.slice(0, honest.length - 30));
      return;
    case "slow": {
      const step = Math.ceil(honest.length / lie.pieces);
      for (let i = 0; i < honest.length && !socket.destroyed; i += step) {
        socket.write(honest.slice(i, i + step));
        await pause(lie.gapMs);
      }
      return;
    }
    case "garbage": socket.write("HTTP/1.1 2OO OK\r\nContent-Length: zz\r\n\r\n\u0000\u0001garbage"); return;
    case "hang": return;
  }
}

export interface RecordingProxy {
  url: string;
  /** Request heads that passed through to the upstream, in arrival order per connection. */
  heads(): string[];
  close(): Promise<void>;
}

/**
 * A TCP pass-through to a real upstream that keeps what the router sent it, so a test can show
 * what did (and did not) reach the upstream without changing the upstream.
 */
export async function startRecordingProxy(targetPort: number): Promise<RecordingProxy> {
  const streams: Buffer[][] = [];
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const seen: Buffer[] = [];
    streams.push(seen);
    const upstream = connect(targetPort, "127.0.0.1");
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on("error", () => { client.destroy(); upstream.destroy(); });
      s.on("close", () => { sockets.delete(s); client.destroy(); upstream.destroy(); });
    }
    client.on("data", (chunk: Buffer) => { seen.push(chunk); });
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
    heads: () => streams.flatMap((parts) => Buffer.concat(parts).toString("latin1").split("\r\n\r\n").filter((h) => h.length > 0)),
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(r));
    },
  };
}

/**
 * Whether a head the router sent upstream is one it may send: GET or HEAD of an allow-listed path,
 * a canonical user id, no query and no body framing.
 */
export function isAllowedUpstreamHead(head: string): boolean {
  const [line = "", ...fields] = head.split("\r\n");
  if (!/^(GET|HEAD) \/(recommend\/(0|[1-9]\d{0,9})|version|readyz|healthz) HTTP\/1\.1$/.test(line)) return false;
  return !fields.some((f) => /^(content-length\s*:\s*[1-9]|transfer-encoding\s*:|expect\s*:)/i.test(f));
}

/** One request head as a client writes it (`headers`: extra `Name: value\r\n` lines). */
export const request = (target: string, headers = "", method = "GET"): string => `${method} ${target} HTTP/1.1\r\nHost: router\r\n${headers}\r\n`;

// ---- Fuzzing: generated client request streams and upstream answer scripts ----

/** What the router must do with one fuzzed request. */
export type Expectation =
  /** 200 with the user's own list (or a fallback/5xx); `lenient`: a 4xx is also fine (Expect). */
  | { kind: "recommend"; user: string; lenient: boolean }
  /** The router's own or the stable release's endpoints: any answer below 600. */
  | { kind: "probe" }
  /** One of `statuses`; the router may close the connection after it. */
  | { kind: "refused"; statuses: number[] }
  /** Bytes Node's parser or the router refuses: a 4xx/5xx or a close, and nothing after it counts. */
  | { kind: "malformed" };

export interface FuzzRequest { bytes: string; method: "GET" | "HEAD" | "POST"; expect: Expectation }

/** Users whose answers differ (known users) plus two cold-start users. */
export const FUZZ_USERS = [...Array.from({ length: 24 }, (_, i) => String(2 * i + 2)), "7", "1001"];

const spellings = (u: string): string[] => [
  `/recommend/${u}`, `http://router/recommend/${u}`, `/recommend/${[...u].map((d) => `%3${d}`).join("")}`, `/recommend/0${u}`, `/recommend/${u}?x=1`,
];

const recommendArb = fc.record({ user: fc.constantFrom(...FUZZ_USERS), spelling: fc.nat(4), head: fc.boolean(), expectContinue: fc.boolean() })
  .map(({ user, spelling, head, expectContinue }): FuzzRequest => ({
    bytes: request(spellings(user)[spelling]!, `X-Request-Id: fuzz-${user}\r\n${expectContinue ? "Expect: 100-continue\r\n" : ""}`, head ? "HEAD" : "GET"),
    method: head ? "HEAD" : "GET",
    expect: { kind: "recommend", user, lenient: expectContinue },
  }));

const probeArb = fc.constantFrom("/healthz", "/readyz", "/version").map((t): FuzzRequest => ({ bytes: request(t), method: "GET", expect: { kind: "probe" } }));

const refused = (bytes: string, statuses: number[], method: FuzzRequest["method"] = "GET"): FuzzRequest => ({ bytes, method, expect: { kind: "refused", statuses } });

const refusedArb = fc.oneof(
  fc.constantFrom("1,2", "-1", "%2D1", "abc", "4294967296", "1.5", "%", "1%2C2", "%E0%A5%A8").map((id) => refused(request(`/recommend/${id}`), [400])),
  fc.constantFrom("/metrics", "/metrics/", "/METRICS", "/admin/state", "http://x/admin/state", "/recommend/1/x", "/favicon.ico").map((t) => refused(request(t), [404])),
  fc.constantFrom("POST", "PUT", "DELETE", "OPTIONS").map((m) => refused(request("/recommend/2", "Content-Length: 0\r\n", m), [405], "POST")),
  fc.string({ minLength: 1, maxLength: 40 }).map((body) => refused(request("/recommend/4", `Content-Length: ${Buffer.byteLength(body)}\r\n`) + body, [400])),
  fc.constant(refused(request("/recommend/4", "Transfer-Encoding: chunked\r\n") + "3\r\nabc\r\n0\r\n\r\n", [400])),
);

const malformedArb = fc.constantFrom(
  "GET /recommend/2 HTTP/1.1\nHost: r\n\n",
  "GET /recommend/2 HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
  "GET /recommend/2 HTTP/2.0\r\nHost: r\r\n\r\n",
  "GET /recommend/2 HTTP/1.1\r\nHo st: r\r\n\r\n",
  "GET /recommend/2 HTTP/1.1\r\nHost: r\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
  "GET /recommend/2 HTTP/1.1\r\nHost: r\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n0\r\n\r\n",
  "GARBAGE\r\n\r\n",
  "\u0000\u0001\u0002 / HTTP/1.1\r\n\r\n",
).map((bytes): FuzzRequest => ({ bytes, method: "GET", expect: { kind: "malformed" } }));

/** One client connection: requests (at most one malformed, last), split at arbitrary byte positions. */
export interface FuzzStream { requests: FuzzRequest[]; cuts: number[] }

export const streamArb: fc.Arbitrary<FuzzStream> = fc.record({
  body: fc.array(fc.oneof({ weight: 4, arbitrary: recommendArb }, { weight: 1, arbitrary: probeArb }, { weight: 1, arbitrary: refusedArb }), { minLength: 1, maxLength: 10 }),
  tail: fc.option(malformedArb, { freq: 3 }),
  cuts: fc.array(fc.nat(), { maxLength: 6 }),
}).map(({ body, tail, cuts }) => ({ requests: tail ? [...body, tail] : body, cuts }));

/** What a client stream is checked against: the router's port and releases, and each user's answer. */
export interface StreamTarget {
  port: number;
  releaseOf(user: string): string;
  expected(user: string): Promise<string>;
}

/**
 * Sends one stream (ending with `/healthz` + `Connection: close` unless a malformed request ends
 * it) and returns every broken rule: an answer that is not the user's own list or comes from the
 * wrong release, a wrong refusal, a missing answer, a hung connection.
 */
export async function checkStream(target: StreamTarget, stream: FuzzStream): Promise<string[]> {
  const requests = stream.requests.at(-1)?.expect.kind === "malformed" ? stream.requests
    : [...stream.requests, { bytes: request("/healthz", "Connection: close\r\n"), method: "GET" as const, expect: { kind: "probe" as const } }];
  const bytes = Buffer.from(requests.map((r) => r.bytes).join(""), "latin1");
  const cuts = [...new Set(stream.cuts.map((c) => c % bytes.length))].filter((c) => c > 0).sort((a, b) => a - b);
  const chunks = [0, ...cuts].map((from, i) => bytes.subarray(from, cuts[i] ?? bytes.length));
  const ex = await rawExchange(target.port, chunks, requests.map((r) => r.method), { timeoutMs: 10_000 });
  const problems: string[] = [];
  // Node answers a parse error at once, ahead of the answers still due, and closes: then the
  // requests before it may go unanswered and its refusal may stand in any position.
  const parseErrorEnds = requests.at(-1)!.expect.kind === "malformed";
  // The router may close after any refusal, and after any answer that says Connection: close
  // (Node does after an Expect: 100-continue it did not continue), leaving the rest unanswered.
  const refusal = requests.findIndex((r) => r.expect.kind === "refused");
  const closing = ex.answers.findIndex((a) => /close/i.test(a.headers.connection ?? ""));
  const stops = [refusal, closing < 0 ? -1 : closing + 1].filter((i) => i >= 0);
  const required = parseErrorEnds ? 0 : stops.length ? Math.min(...stops) : requests.length;
  if (ex.answers.length < required) problems.push(`${ex.answers.length} answers for ${required} well-formed requests (closed: ${ex.closed})`);
  if (!ex.closed && ex.answers.length < requests.length) problems.push("connection neither answered nor closed in 10 s");
  for (const [i, a] of ex.answers.entries()) {
    if (parseErrorEnds && ex.closed && i === ex.answers.length - 1 && a.status >= 400) continue;
    const why = await judge(target, requests[i]!, a);
    if (why) problems.push(`#${i} ${JSON.stringify(requests[i]!.bytes.slice(0, 60))}: ${why}`);
  }
  return problems;
}

async function judge(target: StreamTarget, req: FuzzRequest, a: RawAnswer): Promise<string | null> {
  const e = req.expect;
  switch (e.kind) {
    case "probe": return a.status < 600 ? null : `status ${a.status}`;
    case "refused": return e.statuses.includes(a.status) ? null : `status ${a.status}, wanted ${e.statuses.join("/")}`;
    case "malformed": return a.status >= 400 ? null : `malformed request answered ${a.status}`;
    case "recommend": {
      if (a.status >= 500 || (e.lenient && a.status >= 400 && a.status < 500)) return null;
      if (a.status !== 200) return `status ${a.status}`;
      const release = a.headers["x-release"];
      if (release === "fallback") return null;
      if (release !== target.releaseOf(e.user)) return `user ${e.user} served by ${release}, assigned to ${target.releaseOf(e.user)}`;
      const want = req.method === "HEAD" ? "" : await target.expected(e.user);
      return a.body === want ? null : `user ${e.user} got ${JSON.stringify(a.body.slice(0, 50))}, wanted ${JSON.stringify(want.slice(0, 50))}`;
    }
  }
}

/** Upstream answer scripts: each hostile upstream cycles through its own list of lies. */
export interface LieScript { lies: [Lie[], Lie[]]; users: string[] }

/** Never requested: its ids in anyone's answer or the fallback list mean an answer went astray. */
export const STRAY_USER = "999999";

const lieArb: fc.Arbitrary<Lie> = fc.oneof(
  { weight: 3, arbitrary: fc.constant<Lie>({ kind: "honest" }) },
  fc.constant<Lie>({ kind: "short" }),
  fc.integer({ min: 0, max: 20 }).map((delayMs): Lie => ({ kind: "extra", other: STRAY_USER, delayMs })),
  fc.constant<Lie>({ kind: "wrongUser", other: STRAY_USER }),
  fc.constantFrom("head" as const, "body" as const).map((at): Lie => ({ kind: "close", at })),
  fc.record({ pieces: fc.integer({ min: 2, max: 5 }), gapMs: fc.integer({ min: 0, max: 30 }) }).map(({ pieces, gapMs }): Lie => ({ kind: "slow", pieces, gapMs })),
  fc.constant<Lie>({ kind: "garbage" }),
  fc.constant<Lie>({ kind: "hang" }),
);

export const lieScriptArb: fc.Arbitrary<LieScript> = fc.record({
  lies: fc.tuple(fc.array(lieArb, { minLength: 1, maxLength: 6 }), fc.array(lieArb, { minLength: 1, maxLength: 6 })),
  users: fc.array(fc.integer({ min: 1, max: 5000 }).map(String), { minLength: 1, maxLength: 16 }),
});

/** An id any hostile upstream could honestly have answered for some requested user. */
const honestId = (id: string): boolean => { const m = /^u(\d+)m\d\d$/.exec(id); return m !== null && m[1] !== STRAY_USER; };

/**
 * Runs one script: both upstreams lie as scripted while the users' requests go through the router
 * at once. Returns every broken rule: a 200 carrying another user's ids, a fallback list holding
 * ids no honest answer had, a router that no longer answers /healthz.
 */
export async function checkLieScript(routerUrl: string, upstreams: readonly HostileUpstream[], fallback: () => string[] | null, script: LieScript): Promise<string[]> {
  upstreams.forEach((up, i) => up.setLies((_, n) => script.lies[i]![n % script.lies[i]!.length]!));
  const problems: string[] = [];
  await Promise.all(script.users.map(async (u) => {
    const res = await fetch(`${routerUrl}/recommend/${u}`);
    const body = await res.text();
    if (res.status !== 200) return;
    const release = res.headers.get("x-release");
    const ok = release === "fallback" ? body.split(",").every(honestId) : body.length > 0 && body.split(",").every((id) => id.startsWith(`u${u}m`));
    if (!ok) problems.push(`user ${u} (${release}) got ${JSON.stringify(body.slice(0, 60))}`);
  }));
  upstreams.forEach((up) => up.setLies(() => ({ kind: "honest" })));
  const bogus = (fallback() ?? []).filter((id) => !honestId(id));
  if (bogus.length) problems.push(`fallback list holds ${JSON.stringify(bogus.slice(0, 5))}`);
  const health = await fetch(`${routerUrl}/healthz`).then((r) => r.status, (e: Error) => e.message);
  if (health !== 200) problems.push(`/healthz afterwards: ${health}`);
  return problems;
}
