import { describe, expect, it } from "vitest";
import type { Session } from "../../src/types.js";
import { auditProfile, settle, world } from "../broker/harness.js";

/**
 * The audit trail holds every window, however it opened (issue 18: a window a request opened by
 * itself went unaudited and no test noticed). Exact lines, in order: the count is known.
 */

const MINUTE = 60_000;
const iso = (ms: number) => new Date(ms).toISOString();

describe("broker audit lines", () => {
  it("a window opened on demand by the first request gets exactly one grant line, and the mint its mint line", async () => {
    const w = await world(auditProfile({ grant: "on-demand" }));
    const start = w.clock.now();
    const first = w.broker.credentials("audit");
    await settle();
    expect(w.audit.map((a) => a.event)).toEqual(["grant"]);
    expect(w.audit[0]!.fields).toEqual({ profile: "audit", start: iso(start), end: iso(start + 30 * MINUTE), reason: "on-demand", who: undefined });

    w.minter.answer(0);
    const served = (await first) as Session;
    expect(served.windowEnd).toBe(start + 30 * MINUTE);
    // A second request in the same window opens nothing and mints nothing.
    await w.broker.credentials("audit");
    await settle();
    expect(w.audit.map((a) => a.event)).toEqual(["grant", "mint"]);
    expect(w.audit[1]!.fields.profile).toBe("audit");
  });

  it("an explicit grant gets one grant line with its reason; revoke one revoke line", async () => {
    const w = await world();
    const start = w.clock.now();
    w.broker.grant("audit", { durationMs: 45 * MINUTE, reason: "INC-7" });
    await settle();
    expect(w.audit.map((a) => a.event)).toEqual(["grant"]);
    expect(w.audit[0]!.fields).toMatchObject({ profile: "audit", start: iso(start), end: iso(start + 45 * MINUTE), reason: "INC-7" });
    w.minter.answer(0);
    await settle();
    await w.broker.revoke("audit");
    expect(w.audit.map((a) => a.event)).toEqual(["grant", "mint", "revoke"]);
    expect(w.audit[2]!.fields).toEqual({ profile: "audit" });
  });
});
