import { describe, expect, it } from "vitest";
import type { BrokerEvent } from "../../src/broker/broker.js";
import { MintPendingError, UnknownProfileError, WindowClosedError } from "../../src/errors.js";
import type { Session } from "../../src/types.js";
import { auditProfile, settle, world } from "./harness.js";

/**
 * `serve()`, the endpoint's way in: a cached hit comes back as the session itself (answered in
 * the same tick, no promise), a refusal decided now is thrown now, and only a request that must
 * wait for a mint gets a promise. Whichever way, the same checks and the same refusal reports.
 */

const MINUTE = 60_000;
const isPromise = (v: unknown): boolean => typeof (v as { then?: unknown } | null)?.then === "function";

describe("Broker.serve", () => {
  it("a cached session comes back as itself, not a promise, and is the one credentials() resolves to", async () => {
    const w = await world();
    w.broker.grant("audit", { durationMs: 30 * MINUTE, reason: "INC-1" });
    await settle();
    const m = w.minter.answer(0);
    await settle();
    const hit = w.broker.serve("audit");
    expect(isPromise(hit)).toBe(false);
    expect((hit as Session).accessKeyId).toBe(m.accessKeyId);
    expect(await w.broker.credentials("audit")).toBe(hit);
    expect(w.minter.calls).toHaveLength(1);
  });

  it("a refusal decided now is thrown now and reported once; credentials() rejects with it instead", async () => {
    const w = await world();
    const events: BrokerEvent[] = [];
    w.broker.on((e) => events.push(e));
    expect(() => w.broker.serve("audit")).toThrow(WindowClosedError);
    expect(() => w.broker.serve("nope")).toThrow(UnknownProfileError);
    await expect(w.broker.credentials("audit")).rejects.toThrow(WindowClosedError);
    expect(events.filter((e) => e.type === "refused")).toEqual([
      { type: "refused", profile: "audit", code: "WindowClosed" },
      { type: "refused", profile: "nope", code: "UnknownProfile" },
      { type: "refused", profile: "audit", code: "WindowClosed" },
    ]);
    expect(w.minter.calls).toHaveLength(0);
  });

  it("a request that must wait for a mint gets a promise; one still unanswered at the wait's end is MintPending, not a refusal", async () => {
    const w = await world(auditProfile({ grant: "on-demand" }));
    const events: BrokerEvent[] = [];
    w.broker.on((e) => events.push(e));
    const waiting = w.broker.serve("audit");
    expect(isPromise(waiting)).toBe(true);
    const outcome = (waiting as Promise<Session>).then(
      (s) => s,
      (e: unknown) => e,
    );
    await settle();
    w.timers.advance(800);
    expect(await outcome).toBeInstanceOf(MintPendingError);
    expect(events.some((e) => e.type === "refused")).toBe(false);
    // The mint goes on; once it is answered the next request is a hit again.
    w.minter.answer(0);
    await settle();
    expect(isPromise(w.broker.serve("audit"))).toBe(false);
  });
});
