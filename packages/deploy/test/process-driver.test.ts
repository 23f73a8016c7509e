import { describe } from "vitest";
import { createProcessDriver, type Replica } from "@recsys/deploy";
import { replicaDriverContract } from "./driver-contract.ts";

const alive = async (r: Replica) => {
  try {
    process.kill(Number(r.handle), 0);
    return true;
  } catch {
    return false;
  }
};

describe("process driver (real processes)", () => {
  replicaDriverContract("process", {
    make: (logDir) => createProcessDriver({ logDir, graceMs: 3000 }),
    alive,
    startFailure: /exit code 2.*model/,
  });
});
