// Entry of a router worker process (forked by cluster.ts through tsx).
import { runRouterWorker } from "./worker.ts";

runRouterWorker();
