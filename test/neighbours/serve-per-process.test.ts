import { describe, expect, it } from "vitest";
import type { Audit } from "../../src/audit/audit.js";
import { serveAudit } from "../../src/audit/serve.js";
import type { PeerProcess } from "../../src/platform/peer.js";

/** Issue 15, bullet 4: a serve line per process (pid + exe), not per client port. */

function recorder(): Audit & { lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  return { lines, record: (event, fields) => lines.push({ event, ...fields }), flush: async () => {} };
}

const python = { pid: 4100, exe: "/usr/bin/python3.12" };
const stranger = { pid: 4200, exe: "/tmp/x/steal" };

describe("serve lines per process", () => {
  it("a second process given the same client port after the first one's connection closed gets its own line", async () => {
    const audit = recorder();
    let holder: PeerProcess = python;
    const serves = serveAudit(audit, async () => holder, () => 0);
    serves.served("dev", "ASIA1", 60_000, 40123);
    await serves.settle();
    serves.closed(40123);
    holder = stranger; // the kernel hands port 40123 to another process
    serves.served("dev", "ASIA1", 60_000, 40123);
    await serves.settle();
    expect(audit.lines.map((l) => l.peer)).toEqual([
      { port: 40123, ...python },
      { port: 40123, ...stranger },
    ]);
  });

  it("one process opening a new connection per fetch gets one line per session, not one per connection", async () => {
    const audit = recorder();
    let now = 0;
    const serves = serveAudit(audit, async () => python, () => now);
    for (const port of [50001, 50002, 50003, 50004]) {
      serves.served("dev", "ASIA1", 60_000, port);
      await serves.settle();
      now += 1000;
    }
    serves.served("dev", "ASIA2", 60_000, 50005); // a refreshed session: a line of its own
    await serves.settle();
    expect(audit.lines.map((l) => [l.accessKeyId, l.peer])).toEqual([
      ["ASIA1", { port: 50001, ...python }],
      ["ASIA2", { port: 50005, ...python }],
    ]);
  });
});
