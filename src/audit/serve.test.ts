import { describe, expect, it } from "vitest";
import type { Audit } from "./audit.js";
import { serveAudit } from "./serve.js";

function recorder(): Audit & { lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  return { lines, record: (event, fields) => lines.push({ event, ...fields }), flush: async () => {} };
}

describe("serveAudit", () => {
  it("writes one line per session and process, naming the process found after the answer", async () => {
    const audit = recorder();
    const serves = serveAudit(audit, async (port) => ({ pid: port + 1 }), () => 0);
    serves.served("dev", "ASIA1", 60_000, 5000);
    serves.served("dev", "ASIA1", 60_000, 5000);
    await serves.settle();
    serves.served("dev", "ASIA2", 60_000, 5000);
    await serves.settle();
    expect(audit.lines).toEqual([
      { event: "serve", profile: "dev", accessKeyId: "ASIA1", expiration: "1970-01-01T00:01:00.000Z", peer: { port: 5000, pid: 5001 } },
      { event: "serve", profile: "dev", accessKeyId: "ASIA2", expiration: "1970-01-01T00:01:00.000Z", peer: { port: 5000, pid: 5001 } },
    ]);
  });

  it("looks up one process at a time and at most twice a second; beyond that the line names the port only", async () => {
    const audit = recorder();
    let now = 0;
    let release: () => void = () => {};
    const lookups: number[] = [];
    const serves = serveAudit(
      audit,
      (port) => {
        lookups.push(port);
        return new Promise((r) => (release = () => r({ pid: port })));
      },
      () => now,
    );
    serves.served("dev", "ASIA1", 0, 1);
    serves.served("dev", "ASIA1", 0, 2); // a lookup is under way: port only
    release();
    await serves.settle();
    serves.served("dev", "ASIA1", 0, 3);
    release();
    await serves.settle();
    serves.served("dev", "ASIA1", 0, 4); // the third lookup in this second: port only
    now = 1000;
    serves.served("dev", "ASIA1", 0, 5);
    release();
    await serves.settle();
    expect(lookups).toEqual([1, 3, 5]);
    expect(audit.lines.map((l) => l.peer)).toEqual([{ port: 2 }, { port: 1, pid: 1 }, { port: 3, pid: 3 }, { port: 4 }, { port: 5, pid: 5 }]);
  });
});
