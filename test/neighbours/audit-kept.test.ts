import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import path from "node:path";
import { ManualClock, ManualTimers } from "../../src/clock.js";
import { AUDIT_FILE_BYTES, AUDIT_FILES_KEPT, type Audit } from "../../src/audit/audit.js";
import { MAX_REFUSAL_KINDS, REFUSAL_INTERVAL_MS, refusalAudit } from "../../src/audit/refusals.js";
import { startStack, type Stack } from "../helpers/stack.js";
import { getRequest, loginAndGrant, rawRequest, type Endpoint } from "../hardening/raw.js";

/**
 * Issue 15, bullet 1: refusals are audited as bounded summaries, so no request rate rotates the
 * grants, mints and hand-outs out of the log, and the files hold 30 days of normal use.
 */

type Line = Record<string, unknown>;

function recorder(): Audit & { lines: Line[] } {
  const lines: Line[] = [];
  return { lines, record: (event, fields) => lines.push({ event, ...fields }), flush: async () => {} };
}

/** Refusals a set of lines accounts for: a first line is one, a summary its repeats, the shared line its count. */
const total = (lines: Line[]) => lines.reduce((n, l) => n + ((l.count ?? l.repeated ?? 1) as number), 0);
const peer = (address = "127.0.0.1", port = 40000) => ({ address, port });

describe("refusal summaries", () => {
  it("a flood of one kind writes its first refusal at once and one summary per interval, every refusal counted", () => {
    const clock = new ManualClock();
    const timers = new ManualTimers(clock);
    const audit = recorder();
    const refusals = refusalAudit(audit, { clock, timers });
    for (let i = 0; i < 10_000; i++) refusals.refused("audit", "Unauthorized", peer("127.0.0.1", 30000 + (i % 20000)));
    expect(audit.lines).toEqual([{ event: "refuse", profile: "audit", code: "Unauthorized", peer: peer("127.0.0.1", 30000) }]);
    timers.advance(REFUSAL_INTERVAL_MS);
    expect(audit.lines).toHaveLength(2);
    expect(audit.lines[1]).toMatchObject({ event: "refuse", code: "Unauthorized", profile: "audit", peer: { address: "127.0.0.1" }, repeated: 9_999 });
    // Quiet afterwards: no timer, no line.
    expect(timers.size).toBe(0);
    timers.advance(10 * REFUSAL_INTERVAL_MS);
    expect(audit.lines).toHaveLength(2);
  });

  it("kinds a neighbour makes up (profile names, 127.x addresses) are capped per interval; the rest share one line", () => {
    const clock = new ManualClock();
    const timers = new ManualTimers(clock);
    const audit = recorder();
    const refusals = refusalAudit(audit, { clock, timers });
    for (let i = 0; i < 5_000; i++) refusals.refused(`p${i}`, i % 2 ? "Unauthorized" : "Malformed", peer(`127.0.${i % 250}.1`));
    refusals.flush();
    expect(audit.lines.length).toBeLessThanOrEqual(2 * MAX_REFUSAL_KINDS + 1);
    expect(total(audit.lines)).toBe(5_000);
    expect(audit.lines.at(-1)).toMatchObject({ code: "Various", codes: ["Malformed", "Unauthorized"] });
  });

  it("the files hold 30 days: a flood that never stops plus a heavy user's own lines fit in what rotation keeps", () => {
    const longest = JSON.stringify({ level: 30, time: "2026-11-29T12:00:00.000Z", v: 1, event: "refuse", profile: "p".repeat(64), code: "Unauthorized", peer: { address: "127.255.255.255", port: 65535 }, repeated: 1e12, since: "2026-11-29T12:00:00.000Z", until: "2026-11-29T12:05:00.000Z" });
    const thirtyDays = 30 * 24 * 3_600_000;
    const floodBytes = (thirtyDays / REFUSAL_INTERVAL_MS) * (2 * MAX_REFUSAL_KINDS + 1) * (longest.length + 1);
    // Heavy use: 2,000 new processes a day fetching (each a serve line with exe and cwd), 100 mints, 20 grants.
    const serveLine = 420;
    const userBytes = 30 * (2_000 * serveLine + 100 * 600 + 20 * 300);
    expect(floodBytes + userBytes).toBeLessThan(AUDIT_FILES_KEPT * AUDIT_FILE_BYTES);
  });
});

describe("a neighbour's flood against the real daemon", () => {
  let stack: Stack;
  let ep: Endpoint;
  beforeAll(async () => {
    stack = await startStack();
    ep = await loginAndGrant(stack, "audit");
  }, 60_000);
  afterAll(async () => {
    await stack?.close();
  });

  it("45 wrong-token requests (under the rate limit) write one refusal line and one summary, and the grant and serve lines stay", async () => {
    const bad = getRequest({ path: "/v1/credentials/audit", host: `127.0.0.1:${ep.port}`, token: "w".repeat(43) });
    for (let i = 0; i < 45; i++) expect((await rawRequest(ep.port, bad)).status).toBe(401);
    expect(await stack.stopDaemon("SIGTERM")).toBe(0);
    const lines = readFileSync(path.join(stack.env.XDG_STATE_HOME!, "s3jit", "audit.log"), "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as Line);
    const refused = lines.filter((l) => l.event === "refuse" && l.code === "Unauthorized");
    expect(refused.length).toBeLessThanOrEqual(2);
    expect(total(refused)).toBe(45);
    expect(lines.some((l) => l.event === "grant")).toBe(true);
    expect(lines.some((l) => l.event === "serve")).toBe(true);
  });
});
