import { Worker } from "node:worker_threads";
import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";
import type { TopLevelSpec } from "vega-lite";

export type ChartSpec = TopLevelSpec;

const resolve = createRequire(import.meta.url).resolve;

/**
 * Where the worker imports `name` from: the package, or, in the Docker image's bundle (no
 * node_modules there), the copy docker/bundle.mjs writes next to the bundle as `vendor/NAME.js`.
 */
function moduleUrl(name: "vega" | "vega-lite"): string {
  try {
    return pathToFileURL(resolve(name)).href;
  } catch {
    return new URL(`./vendor/${name}.js`, import.meta.url).href;
  }
}

// Compiling and rendering take about 150 ms of CPU a chart. On the caller's thread that stalls its
// event loop (the deploy loop shares one with the platform's live traffic), so a worker does it.
const WORKER_SOURCE = `
const { parentPort, workerData } = require("node:worker_threads");
const ready = Promise.all([import(workerData.vega), import(workerData.vegaLite)]);
parentPort.on("message", async ({ id, spec }) => {
  try {
    const [vega, vl] = await ready;
    // renderer "none": no canvas or DOM needed; toSVG still builds the scenegraph.
    const view = new vega.View(vega.parse(vl.compile(spec).spec), { renderer: "none" });
    try { parentPort.postMessage({ id, svg: await view.toSVG() }); } finally { view.finalize(); }
  } catch (err) {
    parentPort.postMessage({ id, error: String((err && err.message) || err) });
  }
});`;

let worker: Worker | undefined;
let nextId = 0;
const pending = new Map<number, { resolve: (svg: string) => void; reject: (err: Error) => void }>();

function renderer(): Worker {
  if (worker) return worker;
  const w = new Worker(WORKER_SOURCE, { eval: true, workerData: { vega: moduleUrl("vega"), vegaLite: moduleUrl("vega-lite") } });
  w.on("message", ({ id, svg, error }: { id: number; svg?: string; error?: string }) => {
    const p = pending.get(id);
    pending.delete(id);
    if (pending.size === 0) w.unref(); // idle: never keeps the process alive
    if (error !== undefined) p?.reject(new Error(`chart rendering failed: ${error}`));
    else p?.resolve(svg!);
  });
  w.on("error", (err) => {
    worker = undefined;
    for (const p of pending.values()) p.reject(err);
    pending.clear();
  });
  return (worker = w);
}

/**
 * Compiles a vega-lite spec and renders it to an SVG string on the server (no DOM, no browser),
 * in a worker thread, so a report embeds its charts inline and opens offline.
 *
 *     const svg = await renderChart({ data: { values: rows }, mark: "bar", encoding: { x: { field: "group" }, y: { field: "users", type: "quantitative" } } });
 */
export function renderChart(spec: ChartSpec): Promise<string> {
  const w = renderer();
  const id = nextId++;
  w.ref();
  return new Promise((resolve, reject) => {
    pending.set(id, { resolve, reject });
    w.postMessage({ id, spec: { background: "white", ...spec } });
  });
}
