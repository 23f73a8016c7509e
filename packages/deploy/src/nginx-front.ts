import { mkdir, readFile, rename, rm } from "node:fs/promises";
import { join, resolve } from "node:path";
import Docker from "dockerode";
import { RecsysError, sleep, writeFileAtomic } from "@recsys/core";
import { DEPLOY_ERRORS, dockerUnavailable, noPlatform } from "./errors.ts";
import { httpCall } from "./http.ts";
import { FRONT_TEMPLATE, readTemplate, renderFront, type FrontTable } from "./nginx-render.ts";
import type { RouterAdmin, RouterRelease } from "./router-admin.ts";

/** Labels of the front's container: found again from the state directory after a restart. */
export const FRONT_LABELS = { front: "org.recsys.front", stateDir: "org.recsys.state-dir", port: "org.recsys.port" } as const;

/** The front's files, in `STATE/nginx/` (mounted at /front in its container). */
export const FRONT_FILES = { dir: "nginx", config: "nginx.conf", candidate: "nginx.conf.next", table: "front.json", accessLog: "access.log" } as const;

/** nginx refused a rendering (`nginx -t`) or did not take a reload: the running config stays. */
export class FrontRefusedError extends RecsysError {
  constructor(why: string) {
    super(DEPLOY_ERRORS.router, `nginx front: ${why}`);
  }
}

export interface NginxFrontOptions {
  stateDir: string;
  docker?: Docker;
  /** Default nginx/front.conf.template. */
  templatePath?: string;
  /** How long a reload may take to show its generation on the public port. */
  reloadTimeoutMs?: number;
}

/** The `RouterAdmin` the deploy drives, plus what only a container front has. */
export interface NginxFront extends RouterAdmin {
  readonly container: string;
  readonly port: number;
  generation(): Promise<number>;
  /** Stops and removes the nginx container (its files in the state directory stay). */
  stop(): Promise<void>;
}

/**
 * Starts nginx (image `image`, host networking, 127.0.0.1:`port`) in front of `releases`,
 * labelled with the state directory, and resolves once it serves the first rendering.
 *
 *     const front = await startNginxFront({ stateDir, image: "recsys-nginx:offline", port: 8180, releases });
 */
export async function startNginxFront(o: NginxFrontOptions & { image: string; port: number; releases: RouterRelease[] }): Promise<NginxFront> {
  const docker = o.docker ?? new Docker();
  const stateDir = resolve(o.stateDir);
  const dir = join(stateDir, FRONT_FILES.dir);
  await mkdir(dir, { recursive: true });
  const table: FrontTable = { generation: 1, releases: o.releases };
  await writeFileAtomic(join(dir, FRONT_FILES.config), renderFront(await readTemplate(o.templatePath ?? FRONT_TEMPLATE), o.port, table));
  await writeFileAtomic(join(dir, FRONT_FILES.table), JSON.stringify(table, null, 2) + "\n");
  const container = await engine("create the nginx container", o.image, () => docker.createContainer({
    Image: o.image,
    name: `recsys-front-${o.port}`,
    Cmd: ["nginx", "-c", `/front/${FRONT_FILES.config}`],
    Labels: { [FRONT_LABELS.front]: "nginx", [FRONT_LABELS.stateDir]: stateDir, [FRONT_LABELS.port]: String(o.port) },
    HostConfig: { NetworkMode: "host", Binds: [`${dir}:/front`] },
  }));
  await engine("start the nginx container", o.image, () => container.start());
  const front = frontOf(docker, container.id, o.port, stateDir, o);
  try {
    await waitForGeneration(front, 1, o.reloadTimeoutMs ?? 15_000);
  } catch (err) {
    const log = await container.logs({ stdout: true, stderr: true, tail: 5, follow: false }).then((b) => b.toString("utf8").trim(), () => "(no log)");
    await front.stop();
    throw new FrontRefusedError(`${(err as Error).message}; its log: ${log || "(empty)"}`);
  }
  return front;
}

/**
 * The running front of a state directory, found by its container's labels: a deploying process
 * that restarted finds the nginx an earlier one started.
 */
export async function findNginxFront(o: NginxFrontOptions): Promise<NginxFront> {
  const docker = o.docker ?? new Docker();
  const stateDir = resolve(o.stateDir);
  const found = await engine("list containers", "", () => docker.listContainers({ filters: { label: [`${FRONT_LABELS.front}=nginx`, `${FRONT_LABELS.stateDir}=${stateDir}`], status: ["running"] } }));
  const c = found[0];
  if (!c) throw noPlatform(`no running nginx front labelled ${FRONT_LABELS.stateDir}=${stateDir} (start one with recsys deploy --init --driver docker --front nginx)`);
  return frontOf(docker, c.Id, Number(c.Labels[FRONT_LABELS.port]), stateDir, o);
}

function frontOf(docker: Docker, id: string, port: number, stateDir: string, o: NginxFrontOptions): NginxFront {
  const dir = join(stateDir, FRONT_FILES.dir);
  const container = docker.getContainer(id);
  const url = `http://127.0.0.1:${port}`;
  const readTable = async (): Promise<FrontTable> => JSON.parse(await readFile(join(dir, FRONT_FILES.table), "utf8")) as FrontTable;

  /** Render, `nginx -t` in the container, then swap the file in and reload; a refused rendering changes nothing. */
  async function apply(releases: RouterRelease[]): Promise<RouterRelease[]> {
    const current = await readTable();
    const next: FrontTable = { generation: current.generation + 1, releases };
    const candidate = join(dir, FRONT_FILES.candidate);
    await writeFileAtomic(candidate, renderFront(await readTemplate(o.templatePath ?? FRONT_TEMPLATE), port, next));
    const check = await execIn(container, ["nginx", "-t", "-q", "-c", `/front/${FRONT_FILES.candidate}`]);
    if (check.code !== 0) {
      await rm(candidate, { force: true });
      throw new FrontRefusedError(`nginx -t refused the new config, the running one stays: ${check.output.trim().split("\n").slice(-2).join(" | ")}`);
    }
    await rename(candidate, join(dir, FRONT_FILES.config));
    await writeFileAtomic(join(dir, FRONT_FILES.table), JSON.stringify(next, null, 2) + "\n");
    // SIGHUP is nginx's graceful reload: old workers finish what they hold, new ones take new connections.
    await engine("reload nginx", "", () => container.kill({ signal: "SIGHUP" }));
    await waitForGeneration(front, next.generation, o.reloadTimeoutMs ?? 15_000);
    return releases;
  }

  const front: NginxFront = {
    url,
    container: id,
    port,
    releases: async () => (await readTable()).releases,
    setReleases: apply,
    async rollback() {
      const releases = await readTable().then((t) => t.releases);
      const canaryShare = releases.filter((r) => r.role === "canary").reduce((sum, r) => sum + r.weight, 0);
      return apply(releases.map((r) => (r.role === "canary" ? { ...r, weight: 0 } : { ...r, weight: r.weight + canaryShare })));
    },
    async generation() {
      const answer = await httpCall("GET", `${url}/__front/generation`, { timeoutMs: 1000 });
      return answer.status === 200 ? Number(answer.body.trim()) : 0;
    },
    async stop() {
      await container.stop({ t: 5 }).catch(() => undefined);
      await container.remove({ force: true }).catch(() => undefined);
    },
  };
  return front;
}

async function waitForGeneration(front: NginxFront, generation: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  // A fresh connection per poll: an old worker keeps answering on the connections it holds.
  while ((await front.generation()) !== generation) {
    if (Date.now() > deadline) throw new FrontRefusedError(`rendering ${generation} not serving on ${front.url} after ${timeoutMs} ms (see docker logs ${front.container.slice(0, 12)})`);
    await sleep(50);
  }
}

/** Runs a command in the container and returns its exit code and output (a TTY: one plain stream). */
async function execIn(container: Docker.Container, cmd: string[]): Promise<{ code: number; output: string }> {
  const exec = await engine("exec in the nginx container", "", () => container.exec({ Cmd: cmd, AttachStdout: true, AttachStderr: true, Tty: true }));
  const stream = await exec.start({ hijack: true, stdin: false, Tty: true });
  const chunks: Buffer[] = [];
  await new Promise<void>((done, fail) => {
    stream.on("data", (c: Buffer) => chunks.push(c));
    stream.on("end", done);
    stream.on("error", fail);
  });
  const { ExitCode } = await exec.inspect();
  return { code: ExitCode ?? 1, output: Buffer.concat(chunks).toString("utf8") };
}

async function engine<T>(what: string, image: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    const e = err as { statusCode?: number; code?: string; message?: string };
    if (e.code === "ENOENT" || e.code === "ECONNREFUSED") throw dockerUnavailable("nginx front", `no Docker engine answers (${e.code}); start dockerd or set DOCKER_HOST`);
    if (e.statusCode === 404 && image) throw dockerUnavailable(`image ${image}`, "not found; make it with docker/make-base-image.sh nginx");
    throw dockerUnavailable("nginx front", `${what} failed: ${e.message ?? String(err)}`);
  }
}
