import { readFile } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { FRONT_TEMPLATE, renderFront, serverLines, type RouterRelease } from "@recsys/deploy";
import { recsys } from "./fixtures.ts";

const canaryTable = (canaryWeight: number): RouterRelease[] => [
  { id: "r1", role: "stable", upstreams: ["http://127.0.0.1:9001", "http://127.0.0.1:9002"], weight: 100 - canaryWeight },
  { id: "r2", role: "canary", upstreams: ["http://127.0.0.1:9003"], weight: canaryWeight },
];
const weights = (lines: string[]) => lines.map((l) => Number(/weight=(\d+)/.exec(l)![1]));

describe("the nginx front's rendering", () => {
  it("gives a 20% canary and two stable replicas the weights 2:2:1, so nginx's hash splits 40/40/20", () => {
    expect(weights(serverLines(canaryTable(20)))).toEqual([2, 2, 1]);
    // A promote step: two replicas of the new release at 67%, one old one at 33%.
    const step: RouterRelease[] = [
      { id: "r1", role: "stable", upstreams: ["http://127.0.0.1:9001"], weight: 33 },
      { id: "r2", role: "canary", upstreams: ["http://127.0.0.1:9003", "http://127.0.0.1:9004"], weight: 67 },
    ];
    const w = weights(serverLines(step));
    expect(w[0]! / (w[0]! + w[1]! + w[2]!)).toBeCloseTo(0.33, 2);
  });

  it("leaves a release at weight 0 out of the upstream (a rolled-back canary gets nothing)", async () => {
    const conf = renderFront(await readFile(FRONT_TEMPLATE, "utf8"), 8180, { generation: 7, releases: canaryTable(0) });
    expect(conf).not.toContain("127.0.0.1:9003");
    expect(conf).toContain("listen 127.0.0.1:8180;");
    expect(conf).toContain('return 200 "7\\n";');
    expect(conf).not.toMatch(/\{\{[A-Z]+\}\}/);
  });

  it("refuses a table nginx must never get, naming what is wrong", () => {
    expect(() => renderFront("", 8180, { generation: 1, releases: [{ ...canaryTable(20)[0]!, weight: 90 }] })).toThrow(expect.objectContaining({ code: "DEPLOY_BAD_INPUT" }));
    expect(() => renderFront("", 8180, { generation: 1, releases: [{ ...canaryTable(20)[0]!, weight: 100, upstreams: ["http://127.0.0.1:1;\n  evil"] }] }))
      .toThrow(/is not http:\/\/host:port/);
    expect(() => renderFront("", 8180, { generation: 1, releases: [{ ...canaryTable(20)[0]!, weight: 100, upstreams: [] }] })).toThrow(/no replicas/);
  });

  it("is only for containers: recsys deploy --front nginx without --driver docker is exit 2 with one line", async () => {
    const { code, stderr } = await recsys(["deploy", "--front", "nginx", "--model", "models/none"]);
    expect(code).toBe(2);
    expect(stderr.trim().split("\n")).toHaveLength(1);
    expect(stderr).toMatch(/--front nginx needs --driver docker/);
  });
});
