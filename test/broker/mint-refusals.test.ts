import { describe, expect, it } from "vitest";
import { MintRefusedError, nonRetryableStsCode, UpstreamError } from "../../src/errors.js";
import { scopedDurationSeconds } from "../../src/sts/rules.js";
import { RETRY_MS } from "../../src/broker/schedule.js";
import { auditProfile, configOf, settle, world } from "./harness.js";

const MINUTE = 60_000;

describe("what a mint asks of STS, and what it does with STS's answer", () => {
  it.each(["PackedPolicyTooLarge", "MalformedPolicyDocument", "ValidationError"])(
    "STS %s ends the retry loop: refused with the reason in lastRefusal and the audit log, no retry until the config changes",
    async (awsCode) => {
      const w = await world();
      w.broker.grant("audit", { durationMs: 30 * MINUTE, reason: "INC-1" });
      await settle();
      w.minter.fail(0, new MintRefusedError(awsCode));
      await settle();
      expect(w.broker.status("audit").lastRefusal).toMatchObject({ code: "MintRefused", reason: awsCode });
      expect(w.audit.filter((l) => l.event === "refuse")).toEqual([{ event: "refuse", fields: expect.objectContaining({ profile: "audit", code: "MintRefused", awsCode }) as unknown }]);
      // No retry timer, however long the window goes on…
      w.timers.advance(10 * RETRY_MS);
      await settle();
      expect(w.minter.calls).toHaveLength(1);
      // …and a request gets the refusal, not a new call to STS.
      await expect(w.broker.credentials("audit")).rejects.toBeInstanceOf(MintRefusedError);
      await settle();
      expect(w.minter.calls).toHaveLength(1);
      // A reloaded config (a new object, even with the same text) may mint again.
      w.config = configOf(auditProfile());
      const req = w.broker.credentials("audit");
      await settle();
      expect(w.minter.calls).toHaveLength(2);
      w.minter.answer(1);
      await expect(req).resolves.toMatchObject({ profile: "audit" });
    },
  );

  it("a retryable failure (throttling) still retries after RETRY_MS", async () => {
    const w = await world();
    w.broker.grant("audit", { durationMs: 30 * MINUTE, reason: "INC-1" });
    await settle();
    w.minter.fail(0, new UpstreamError("AWS call failed: Throttling", 2));
    await settle();
    w.timers.advance(RETRY_MS);
    await settle();
    expect(w.minter.calls).toHaveLength(2);
  });

  it("scoped mode keeps a margin below the parent session's remaining life (STS rejects a longer DurationSeconds)", async () => {
    const w = await world();
    w.logins.baseTtlMs = 30 * MINUTE;
    w.broker.grant("audit", { durationMs: 2 * 60 * MINUTE, reason: "INC-1" });
    await settle();
    const req = w.minter.calls[0]!.req;
    const parentLeft = req.base.expiration - w.minter.calls[0]!.at;
    expect(req.durationSeconds * 1000).toBeLessThanOrEqual(parentLeft - 5000);
    expect(req.durationSeconds * 1000).toBeGreaterThan(parentLeft - 60_000);
    expect(scopedDurationSeconds(3600_000, 3600_000, 1800_000)).toBeLessThanOrEqual(1795);
  });

  it("asks SSO for base credentials that outlive the session wanted by that margin", async () => {
    const w = await world();
    w.broker.grant("audit", { durationMs: 30 * MINUTE, reason: "INC-1" });
    await settle();
    expect(w.logins.asked[0]).toBeGreaterThanOrEqual(30 * MINUTE + 5000);
  });

  it("SessionTokenUtilization, when STS returns it, goes into the mint's audit line", async () => {
    const w = await world();
    w.broker.grant("audit", { durationMs: 30 * MINUTE, reason: "INC-1" });
    await settle();
    w.minter.answer(0, { sessionTokenUtilization: 37 });
    await settle();
    const mint = w.audit.find((l) => l.event === "mint");
    expect(mint?.fields).toMatchObject({ profile: "audit", sessionTokenUtilization: 37 });
  });

  it.each([
    ["PackedPolicyTooLargeException", "PackedPolicyTooLarge"],
    ["MalformedPolicyDocumentException", "MalformedPolicyDocument"],
    ["ValidationError", "ValidationError"],
    ["Throttling", null],
    ["ExpiredTokenException", null],
    ["RegionDisabledException", null],
  ])("the SDK's %s is %s for the minter's error translation", (name, code) => {
    expect(nonRetryableStsCode(name)).toBe(code);
  });
});
