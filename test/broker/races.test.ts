import { describe, expect, it } from "vitest";
import { LoginRequiredError, WindowClosedError } from "../../src/errors.js";
import type { Session } from "../../src/types.js";
import { auditProfile, configOf, settle, vaultSessions, world, type World } from "./harness.js";

/**
 * DESIGN.md §2 rule 6: a state change wins over a mint in flight. STS is held by the test
 * (HeldMinter), so "logout while STS answers" is an ordering written down, not a sleep.
 */

const MINUTE = 60_000;

/** Every request's outcome, kept so the test can check what was served after the fact. */
function ask(w: World, profile = "audit"): Promise<Session | Error> {
  return w.broker.credentials(profile).then(
    (s) => s,
    (e: unknown) => e as Error,
  );
}

async function grantAndHold(w: World, minutes = 30): Promise<void> {
  w.broker.grant("audit", { durationMs: minutes * MINUTE, reason: "INC-1" });
  await settle();
  expect(w.minter.pending()).toEqual([w.minter.calls.length - 1]);
}

describe("state changes win over a mint in flight", () => {
  it("N first requests before any session exists share exactly one mint", async () => {
    const w = await world(auditProfile({ grant: "on-demand" }));
    const requests = Array.from({ length: 25 }, () => ask(w));
    await settle();
    expect(w.minter.calls).toHaveLength(1);
    const minted = w.minter.answer(0);
    const served = await Promise.all(requests);
    expect(new Set(served.map((s) => (s as Session).accessKeyId))).toEqual(new Set([minted.accessKeyId]));
    expect(w.minter.calls).toHaveLength(1);
  });

  it("revoke and re-grant (the same end) during a mint: the old mint stores nothing, in memory or the vault, and is never served", async () => {
    const w = await world();
    await grantAndHold(w);
    const early = ask(w);
    await w.broker.revoke("audit");
    // The clock has not moved: the new window ends exactly where the revoked one did.
    w.broker.grant("audit", { durationMs: 30 * MINUTE, reason: "INC-2" });
    await settle();
    const old = w.minter.answer(0);
    await settle();
    expect(w.broker.status("audit").session?.accessKeyId).not.toBe(old.accessKeyId);
    expect(w.vaultKeys).not.toContain(old.accessKeyId);
    // The new window's own mint serves the request that was waiting, and the next ones.
    for (const i of w.minter.pending()) w.minter.answer(i);
    await settle();
    for (const i of w.minter.pending()) w.minter.answer(i);
    const served = [await early, await ask(w)];
    for (const s of served) expect((s as Session).accessKeyId).not.toBe(old.accessKeyId);
    expect(w.vaultKeys).not.toContain(old.accessKeyId);
  });

  it("logout (purge) during a mint: nothing stored, nothing served afterwards", async () => {
    const w = await world();
    await grantAndHold(w);
    // What the control service does on logout: forget the login, then every cached session.
    w.logins.loggedIn = false;
    await w.broker.purgeAll();
    const old = w.minter.answer(0);
    await settle();
    expect(w.vaultKeys).not.toContain(old.accessKeyId);
    expect(await vaultSessions(w)).toEqual([]);
    expect(w.broker.status("audit").session).toBeNull();
    const after = await ask(w);
    expect(after).toBeInstanceOf(LoginRequiredError);
  });

  it("logout of the SSO instance (its generation bumped) during a mint: nothing stored, nothing served", async () => {
    const w = await world();
    await grantAndHold(w);
    w.logins.loggedIn = false;
    await w.broker.loggedOut("corp");
    const old = w.minter.answer(0);
    await settle();
    expect(w.vaultKeys).not.toContain(old.accessKeyId);
    expect(await ask(w)).toBeInstanceOf(LoginRequiredError);
  });

  it("reload to a narrower scope during a mint: the old-scope session is never served; the new scope's is", async () => {
    const w = await world();
    await grantAndHold(w);
    expect(w.minter.calls[0]!.req.policy).toContain("reports");
    const waiting = ask(w);
    // Only the config object is swapped: the broker must see the change by itself.
    w.config = configOf(auditProfile({ scope: ["audit-logs/2026/"] }));
    const old = w.minter.answer(0);
    await settle();
    expect(w.vaultKeys).not.toContain(old.accessKeyId);
    const next = w.minter.pending();
    expect(next).toHaveLength(1);
    expect(w.minter.calls[next[0]!]!.req.policy).not.toContain("reports");
    const fresh = w.minter.answer(next[0]!);
    expect(((await waiting) as Session).accessKeyId).toBe(fresh.accessKeyId);
    expect(((await ask(w)) as Session).accessKeyId).toBe(fresh.accessKeyId);
  });

  it("reload to a narrower scope after a session is cached: the cached old-scope session is not served from memory", async () => {
    const w = await world();
    await grantAndHold(w);
    const old = w.minter.answer(0);
    expect(((await ask(w)) as Session).accessKeyId).toBe(old.accessKeyId);
    w.config = configOf(auditProfile({ scope: ["audit-logs/2026/"] }));
    const after = ask(w);
    await settle();
    const next = w.minter.pending();
    expect(next).toHaveLength(1);
    const fresh = w.minter.answer(next[0]!);
    expect(((await after) as Session).accessKeyId).toBe(fresh.accessKeyId);
  });

  it("grant-extend during a mint: the mint for the old end stores nothing, and one for the new end starts at once", async () => {
    const w = await world();
    await grantAndHold(w, 30);
    w.clock.advance(MINUTE);
    const extended = w.broker.grant("audit", { durationMs: 60 * MINUTE, reason: "INC-1 longer" });
    await settle();
    expect(w.minter.calls).toHaveLength(2);
    const old = w.minter.answer(0);
    await settle();
    expect(w.vaultKeys).not.toContain(old.accessKeyId);
    const fresh = w.minter.answer(1);
    const s = (await ask(w)) as Session;
    expect(s.accessKeyId).toBe(fresh.accessKeyId);
    expect(s.windowEnd).toBe(extended.end);
  });

  it("revoke during a mint: the waiting request is refused, nothing is stored", async () => {
    const w = await world();
    await grantAndHold(w);
    const waiting = ask(w);
    await w.broker.revoke("audit");
    const old = w.minter.answer(0);
    expect(await waiting).toBeInstanceOf(WindowClosedError);
    await settle();
    expect(w.vaultKeys).not.toContain(old.accessKeyId);
  });

  it("a mint ahead (nobody waiting) overtaken by logout is dropped quietly: no new mint, no login-required (no browser after a logout)", async () => {
    const w = await world();
    const events: string[] = [];
    w.broker.on((e) => events.push(e.type));
    await grantAndHold(w);
    w.logins.loggedIn = false;
    await w.broker.loggedOut("corp");
    w.minter.answer(0);
    await settle();
    expect(w.minter.calls).toHaveLength(1);
    expect(events).not.toContain("login-required");
    expect(w.broker.status("audit")).toMatchObject({ session: null, lastRefusal: null, minting: false });
  });

  it("status shows no session once a reload narrowed the scope: what it shows is what would be served", async () => {
    const w = await world();
    await grantAndHold(w);
    w.minter.answer(0);
    await settle();
    expect(w.broker.status("audit").session).not.toBeNull();
    w.config = configOf(auditProfile({ scope: ["audit-logs/2026/"] }));
    expect(w.broker.status("audit").session).toBeNull();
  });
});
