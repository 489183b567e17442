import { describe, expect, it } from "vitest";
import { ManualTimers } from "../../src/clock.js";
import { Broker, type BrokerEvent } from "../../src/broker/broker.js";
import { LoginRequiredError, MintPendingError, MintRefusedError, UnknownProfileError, UpstreamError, WindowClosedError } from "../../src/errors.js";
import { Secrets } from "../../src/store/secrets.js";
import { nullAudit } from "../../src/audit/audit.js";
import { auditProfile, configOf, track, settle, vaultSessions, world, type World } from "../broker/harness.js";
import { profileToml } from "../helpers/config.js";

/**
 * What the broker announces (the event bus behind `status --events` and the trays), and the
 * lifecycle paths the spawned-daemon suites cover slowly: restart (`resume`), shutdown (`close`),
 * background retries, a window that ends while the laptop sleeps. Every event list is exact and in
 * order; time moves only through ManualTimers.
 */

const MINUTE = 60_000;

function listen(w: World): BrokerEvent[] {
  const events: BrokerEvent[] = [];
  w.broker.on((e) => events.push(e));
  return events;
}


async function grantMinted(w: World, minutes = 30): Promise<{ end: number; expiration: number; key: string }> {
  const win = w.broker.grant("audit", { durationMs: minutes * MINUTE, reason: "INC-1" });
  await settle();
  const m = w.minter.answer(w.minter.calls.length - 1);
  await settle();
  return { end: win.end, expiration: m.expiration, key: m.accessKeyId };
}

/** Sessions of 2 h in windows of up to 4 h: they refresh exactly 20 min before they end. */
async function longSessions(): Promise<World> {
  const w = await world(auditProfile({ max_window: "4h", session_ttl: "2h" }));
  w.logins.baseTtlMs = 4 * 60 * MINUTE;
  return w;
}

/** A second broker on the same clock, windows and vault (a restarted daemon), with its own timers. */
async function restarted(w: World): Promise<{ broker: Broker; timers: ManualTimers }> {
  const timers = new ManualTimers(w.clock);
  const vault = await Secrets.open(w.store);
  const broker = new Broker({ config: () => w.config, clock: w.clock, timers, windows: w.windows, logins: w.logins, minter: w.minter, vault, audit: nullAudit });
  return { broker, timers };
}

describe("broker events", () => {
  it("grant, mint, revoke: window-opened, minted, window-closed, each once and exact", async () => {
    const w = await world();
    const events = listen(w);
    const { end, expiration } = await grantMinted(w);
    await w.broker.revoke("audit");
    expect(events).toEqual([
      { type: "window-opened", profile: "audit", end },
      { type: "minted", profile: "audit", expiration },
      { type: "window-closed", profile: "audit" },
    ]);
  });

  it("an unsubscribed listener hears nothing more; another still does", async () => {
    const w = await world();
    const first: BrokerEvent[] = [];
    const off = w.broker.on((e) => first.push(e));
    const second = listen(w);
    w.broker.grant("audit", { durationMs: 30 * MINUTE, reason: "INC-1" });
    off();
    await w.broker.revoke("audit");
    expect(first.map((e) => e.type)).toEqual(["window-opened"]);
    expect(second.map((e) => e.type)).toEqual(["window-opened", "window-closed"]);
  });

  it("window-closing 5 minutes before the end, window-closed and one expire line at the end, once", async () => {
    // session_ttl 1h > the 30 min window: the session ends with the window (two timers see the end).
    const w = await world();
    const events = listen(w);
    const { end } = await grantMinted(w);
    events.length = 0;
    await w.timers.advanceAsync(end - 5 * MINUTE - w.clock.now() - 1);
    expect(events).toEqual([]);
    await w.timers.advanceAsync(1);
    expect(events).toEqual([{ type: "window-closing", profile: "audit", end }]);
    await w.timers.advanceAsync(5 * MINUTE + 10);
    await settle();
    expect(events).toEqual([
      { type: "window-closing", profile: "audit", end },
      { type: "window-closed", profile: "audit" },
    ]);
    expect(w.audit.filter((a) => a.event === "expire")).toEqual([{ event: "expire", fields: { profile: "audit" } }]);
    expect(await vaultSessions(w)).toEqual([]);
  });

  it("a window dropped or moved behind the broker's back (a reload) is not announced as closing", async () => {
    const w = await world();
    const events = listen(w);
    const { end } = await grantMinted(w);
    // The book alone changes, as a reload's restrict() does: the end moves 2 minutes earlier, so
    // the window is still open when the old closing timer fires, with another end.
    const cfg = w.config.profiles.audit!;
    w.windows.revoke("audit", w.clock.now());
    w.windows.grant("audit", { durationMs: 28 * MINUTE, reason: "cut" }, cfg, w.clock.now());
    events.length = 0;
    await w.timers.advanceAsync(end - 5 * MINUTE - w.clock.now());
    expect(w.windows.get("audit", w.clock.now())?.end).toBe(end - 2 * MINUTE);
    expect(events).toEqual([]);
    // Gone altogether: still nothing closing.
    w.windows.revoke("audit", w.clock.now());
    await w.timers.advanceAsync(MINUTE);
    expect(events.filter((e) => e.type === "window-closing")).toEqual([]);
  });

  it("a session that ends at the old end of an extended window is not purged or announced while the window goes on", async () => {
    const w = await world();
    const events = listen(w);
    const { end, key } = await grantMinted(w);
    await w.timers.advanceAsync(20 * MINUTE);
    // Extended to 60 min from now; its mint is held by STS past the old end.
    const longer = w.broker.grant("audit", { durationMs: 60 * MINUTE, reason: "more" });
    expect(longer.end).toBeGreaterThan(end);
    await settle();
    events.length = 0;
    await w.timers.advanceAsync(end - w.clock.now() + 10);
    await settle();
    expect(events).toEqual([]);
    expect(w.audit.filter((a) => a.event === "expire")).toEqual([]);
    expect(await vaultSessions(w)).toEqual([key]);
  });

  it("refusals are announced with their code; a request still waiting (MintPending) is not a refusal", async () => {
    const w = await world();
    const events = listen(w);
    await expect(w.broker.credentials("audit")).rejects.toBeInstanceOf(WindowClosedError);
    expect(events).toEqual([{ type: "refused", profile: "audit", code: "WindowClosed" }]);
    expect(w.broker.status("audit").lastRefusal).toEqual({ code: "WindowClosed", at: w.clock.now() });

    const w2 = await world();
    const events2 = listen(w2);
    w2.broker.grant("audit", { durationMs: 30 * MINUTE, reason: "INC-1" });
    const waiting = track(w2.broker.credentials("audit"));
    await settle();
    await w2.timers.advanceAsync(800);
    expect(await waiting()).toBeInstanceOf(MintPendingError);
    expect(events2.map((e) => e.type)).toEqual(["window-opened"]);
    expect(w2.broker.status("audit").lastRefusal).toBeNull();
  });

  it("a request waits 800 ms by default for a mint, then gets MintPending (the mint goes on and serves the next one)", async () => {
    const w = await world();
    w.broker.grant("audit", { durationMs: 30 * MINUTE, reason: "INC-1" });
    const waiting = track(w.broker.credentials("audit"));
    await settle();
    await w.timers.advanceAsync(799);
    expect(await waiting()).toBe("pending");
    await w.timers.advanceAsync(1);
    const e = await waiting();
    expect(e).toBeInstanceOf(MintPendingError);
    expect((e as Error).message).toBe('credentials for "audit" are being minted; retry in a second');
    expect(w.broker.status("audit").minting).toBe(true);
    const m = w.minter.answer(0);
    await settle();
    expect(w.broker.status("audit")).toEqual({
      window: expect.objectContaining({ profile: "audit" }) as unknown,
      session: { expiration: m.expiration, accessKeyId: m.accessKeyId },
      lastRefusal: null,
      minting: false,
    });
    expect((await w.broker.credentials("audit")).accessKeyId).toBe(m.accessKeyId);
  });

  it("a request overtaken by state changes decides again, at most 3 times, then gets MintPending", async () => {
    const w = await world();
    w.broker.grant("audit", { durationMs: 30 * MINUTE, reason: "INC-1" });
    const waiting = track(w.broker.credentials("audit"));
    await settle();
    for (let i = 0; i < 3; i++) {
      expect(w.minter.pending()).toEqual([i]);
      // A reload: new config objects, so the mint in flight is stale when STS answers.
      w.config = configOf(auditProfile());
      w.minter.answer(i);
      const now = await waiting();
      if (i < 2) expect(now).toBe("pending");
      else expect(now).toBeInstanceOf(MintPendingError);
    }
    expect(w.minter.calls).toHaveLength(3);
    expect(w.broker.status("audit").lastRefusal).toBeNull();
  });

  it("an unknown profile is refused by name, listing the known ones", async () => {
    const w = await world();
    const err = await track(w.broker.credentials("nope"))();
    expect(err).toBeInstanceOf(UnknownProfileError);
    expect((err as Error).message).toBe('no profile "nope" in the config (known: audit)');
  });

  it("login required: the request is refused, login-required is announced for the SSO instance, no retry is scheduled", async () => {
    const w = await world();
    const events = listen(w);
    w.logins.loggedIn = false;
    const win = w.broker.grant("audit", { durationMs: 30 * MINUTE, reason: "INC-1" });
    await settle();
    expect(events).toEqual([
      { type: "window-opened", profile: "audit", end: win.end },
      { type: "refused", profile: "audit", code: "LoginRequired" },
      { type: "login-required", sso: "corp" },
    ]);
    expect(w.broker.status("audit").lastRefusal?.code).toBe("LoginRequired");
    // Only the window's closing timer is armed.
    expect(w.timers.size).toBe(1);
    expect(w.timers.next()).toBe(win.end - 5 * MINUTE);
    await expect(w.broker.credentials("audit")).rejects.toBeInstanceOf(LoginRequiredError);
  });

  it("STS failing with an unknown error: UpstreamError 'minting failed', retried exactly 30 s later while the window is open", async () => {
    const w = await world();
    w.broker.grant("audit", { durationMs: 30 * MINUTE, reason: "INC-1" });
    const waiting = track(w.broker.credentials("audit"));
    await settle();
    const t0 = w.clock.now();
    w.minter.fail(0, new Error("socket hang up"));
    const e = await waiting();
    expect(e).toBeInstanceOf(UpstreamError);
    expect((e as Error).message).toBe("minting failed");
    await w.timers.advanceAsync(30_000 - 1);
    expect(w.minter.calls).toHaveLength(1);
    await w.timers.advanceAsync(1);
    await settle();
    expect(w.minter.calls.map((c) => c.at)).toEqual([t0, t0 + 30_000]);
  });

  it("a retry due after the window was dropped (a reload) mints nothing", async () => {
    const w = await world();
    w.broker.grant("audit", { durationMs: 30 * MINUTE, reason: "INC-1" });
    await settle();
    w.minter.fail(0, new UpstreamError("throttled"));
    await settle();
    w.windows.revoke("audit", w.clock.now());
    await w.timers.advanceAsync(60_000);
    await settle();
    expect(w.minter.calls).toHaveLength(1);
  });

  it("a refresh due after the window was dropped (a reload) mints nothing and is no refusal (nobody asked)", async () => {
    const w = await longSessions();
    const win = w.broker.grant("audit", { durationMs: 3 * 60 * MINUTE, reason: "INC-1" });
    await settle();
    const m = w.minter.answer(0);
    await settle();
    expect(m.expiration).toBeLessThan(win.end);
    w.windows.revoke("audit", w.clock.now());
    await w.timers.advanceAsync(m.expiration - 20 * MINUTE - w.clock.now());
    await settle();
    expect(w.minter.calls).toHaveLength(1);
    expect(w.broker.status("audit").lastRefusal).toBeNull();
    expect(w.broker.status("audit").minting).toBe(false);
  });

  it("a mint refused for good is audited once with STS's code", async () => {
    const w = await world();
    w.broker.grant("audit", { durationMs: 30 * MINUTE, reason: "INC-1" });
    await settle();
    w.minter.fail(0, new MintRefusedError("PackedPolicyTooLarge"));
    await settle();
    expect(w.audit.slice(1)).toEqual([{ event: "refuse", fields: { profile: "audit", code: "MintRefused", awsCode: "PackedPolicyTooLarge", what: "mint" } }]);
  });

  it("STS answering with less than a second of window left: WindowClosed, and no retry armed", async () => {
    const w = await world();
    const win = w.broker.grant("audit", { durationMs: 30 * MINUTE, reason: "INC-1" });
    await settle();
    // The first mint never answers; a reload makes it stale; 500 ms before the end a request mints again.
    w.clock.set(win.end - 500);
    w.config = configOf(auditProfile());
    const late = await track(w.broker.credentials("audit"))();
    expect(late).toBeInstanceOf(WindowClosedError);
    expect(w.minter.calls).toHaveLength(1);
    // The closing timer (already due, not yet fired) and nothing else: no 30 s retry.
    expect(w.timers.size).toBe(1);
  });

  it("a keychain write that fails is audited (never the secret), and the session is still served", async () => {
    const w = await world();
    w.store.set = () => Promise.reject(new Error("the keyring is locked"));
    const { key } = await grantMinted(w);
    expect(w.audit.map((a) => a.event)).toEqual(["grant", "error", "mint"]);
    expect(w.audit[1]!.fields).toEqual({ profile: "audit", what: "keychain write failed", code: "Error" });
    expect((await w.broker.credentials("audit")).accessKeyId).toBe(key);
  });

  it("a window that ended while no timer fired (a laptop asleep) is purged and audited on the next request", async () => {
    const w = await world();
    const events = listen(w);
    const { end } = await grantMinted(w);
    events.length = 0;
    w.clock.set(end + 1);
    await expect(w.broker.credentials("audit")).rejects.toBeInstanceOf(WindowClosedError);
    await settle();
    expect(await vaultSessions(w)).toEqual([]);
    expect(w.audit.map((a) => a.event)).toEqual(["grant", "mint", "expire"]);
    expect(events).toEqual([
      { type: "window-closed", profile: "audit" },
      { type: "refused", profile: "audit", code: "WindowClosed" },
    ]);
  });
});

describe("logout purges only the SSO instance's own profiles", () => {
  it("a profile of another IAM Identity Center instance keeps its session", async () => {
    const other = `\n[sso.other]\nstart_url = "https://other.awsapps.com/start"\nregion = "eu-west-1"\n`;
    const w = await world();
    w.config = configOf(auditProfile() + other + profileToml("elsewhere", { sso: "other", scope: ["other-b2"] }));
    expect(w.config.profiles.elsewhere?.sso).toBe("other");
    w.broker.grant("audit", { durationMs: 30 * MINUTE, reason: "a" });
    w.broker.grant("elsewhere", { durationMs: 30 * MINUTE, reason: "b" });
    await settle();
    const a = w.minter.answer(0);
    const b = w.minter.answer(1);
    await settle();
    expect((await vaultSessions(w)).sort()).toEqual([a.accessKeyId, b.accessKeyId].sort());
    await w.broker.loggedOut("other");
    expect(await vaultSessions(w)).toEqual([a.accessKeyId]);
    expect(w.broker.status("audit").session?.accessKeyId).toBe(a.accessKeyId);
    expect(w.broker.status("elsewhere").session).toBeNull();
  });
});

describe("restart and shutdown", () => {
  it("a session restored from the vault is served without a mint, and its refresh is armed at its instant", async () => {
    const w = await longSessions();
    const t0 = w.clock.now();
    const { expiration, key } = await grantMinted(w, 3 * 60);
    const { broker, timers } = await restarted(w);
    expect((await broker.credentials("audit")).accessKeyId).toBe(key);
    expect(w.minter.calls).toHaveLength(1);
    expect(timers.next()).toBe(expiration - 20 * MINUTE);
    await timers.advanceAsync(expiration - 20 * MINUTE - w.clock.now());
    await settle();
    expect(w.minter.calls.map((c) => c.at)).toEqual([t0, expiration - 20 * MINUTE]);
  });

  it("resume(): a restored session needs no mint; its window's closing and refresh timers are armed", async () => {
    const w = await longSessions();
    const { end, expiration } = await grantMinted(w, 3 * 60);
    const { broker, timers } = await restarted(w);
    broker.resume();
    await settle();
    expect(w.minter.calls).toHaveLength(1);
    expect(timers.size).toBe(2);
    expect(timers.next()).toBe(expiration - 20 * MINUTE);
    broker.close();
    expect(timers.size).toBe(0);
    expect(end).toBeGreaterThan(expiration);
  });

  it("resume(): an open window without a session in the vault mints at once; a profile without a window does not", async () => {
    const w = await world(auditProfile() + profileToml("idle", { scope: ["idle-bucket"] }));
    const win = w.windows.grant("audit", { durationMs: 30 * MINUTE, reason: "before" }, w.config.profiles.audit!, w.clock.now());
    const { broker, timers } = await restarted(w);
    broker.resume();
    await settle();
    expect(w.minter.calls).toHaveLength(1);
    expect(w.minter.calls[0]!.req.description).toContain("s3jit audit");
    expect(timers.next()).toBe(win.end - 5 * MINUTE);
    expect(broker.status("audit").minting).toBe(true);
    expect(broker.status("idle")).toEqual({ window: null, session: null, lastRefusal: null, minting: false });
  });

  it("close() stops every timer: no refresh, no closing announcement", async () => {
    const w = await longSessions();
    const events = listen(w);
    await grantMinted(w, 3 * 60);
    expect(w.timers.size).toBe(2);
    w.broker.close();
    expect(w.timers.size).toBe(0);
    events.length = 0;
    await w.timers.advanceAsync(4 * 60 * MINUTE);
    expect(events).toEqual([]);
    expect(w.minter.calls).toHaveLength(1);
  });
});

