import { describe, expect, it } from "vitest";
import { ManualTimers } from "../../src/clock.js";
import { Broker } from "../../src/broker/broker.js";
import { nullAudit } from "../../src/audit/audit.js";
import { WindowClosedError } from "../../src/errors.js";
import { Secrets } from "../../src/store/secrets.js";
import type { Session } from "../../src/types.js";
import { auditProfile, configOf, track, deferred, settle, vaultSessions, world, type World } from "../broker/harness.js";
import { OTHER_PROFILE_TOML } from "../helpers/config.js";

/**
 * What the session cache serves and keeps, at its exact edges: the last minute of a session, a
 * session that ends with its window, the vault after a restart, a purge or reload while the
 * keychain writes, and state changes that come twice. The vault is read directly.
 */

const MINUTE = 60_000;


/** Sessions of 2 h in windows of up to 4 h: they end well before their window. */
async function longSessions(profiles = auditProfile({ max_window: "4h", session_ttl: "2h" })): Promise<World> {
  const w = await world(profiles);
  w.logins.baseTtlMs = 4 * 60 * MINUTE;
  return w;
}

async function grantMinted(w: World, minutes = 30, profile = "audit"): Promise<{ end: number; expiration: number; key: string }> {
  const win = w.broker.grant(profile, { durationMs: minutes * MINUTE, reason: "INC-1" });
  await settle();
  const m = w.minter.answer(w.minter.calls.length - 1);
  await settle();
  return { end: win.end, expiration: m.expiration, key: m.accessKeyId };
}

async function restarted(w: World): Promise<Broker> {
  const vault = await Secrets.open(w.store);
  return new Broker({ config: () => w.config, clock: w.clock, timers: new ManualTimers(w.clock), windows: w.windows, logins: w.logins, minter: w.minter, vault, audit: nullAudit });
}

/** The store's session writes wait until the test releases them (a slow keychain). */
function holdVaultWrites(w: World): Array<() => void> {
  const held: Array<() => void> = [];
  const set = w.store.set.bind(w.store);
  w.store.set = async (k: string, v: string) => {
    const gate = deferred<void>();
    held.push(() => gate.resolve());
    await gate.promise;
    return set(k, v);
  };
  return held;
}

describe("what the cache serves", () => {
  it("a session with exactly a minute left is served; with less, a new one is minted", async () => {
    const w = await longSessions();
    const { expiration, key } = await grantMinted(w, 3 * 60);
    // The clock jumps (a laptop asleep): no refresh timer fired on the way.
    w.clock.set(expiration - 60_000);
    expect((await w.broker.credentials("audit")).accessKeyId).toBe(key);
    expect(w.minter.calls).toHaveLength(1);
    w.clock.set(expiration - 59_999);
    const next = track(w.broker.credentials("audit"));
    expect(await next()).toBe("pending");
    expect(w.minter.calls).toHaveLength(2);
    const m = w.minter.answer(1);
    expect(((await next()) as Session).accessKeyId).toBe(m.accessKeyId);
  });

  it("a session that ends with its window is served to its last seconds: nothing longer exists", async () => {
    const w = await world();
    const { end, expiration, key } = await grantMinted(w);
    expect(expiration).toBe(end);
    w.clock.set(end - 30_000);
    expect((await w.broker.credentials("audit")).accessKeyId).toBe(key);
    expect(w.minter.calls).toHaveLength(1);
  });

  it("a session that ends half a second before its window is not served at its expiration", async () => {
    const w = await world();
    w.clock.set(w.clock.now() + 500);
    const { end, expiration, key } = await grantMinted(w);
    expect(end - expiration).toBe(500);
    w.clock.set(expiration);
    const out = await track(w.broker.credentials("audit"))();
    expect(out).toBeInstanceOf(WindowClosedError);
    expect((out as Session).accessKeyId).not.toBe(key);
  });

  it("status shows the session until its expiration, not at it", async () => {
    const w = await longSessions();
    const { expiration, key } = await grantMinted(w, 3 * 60);
    w.clock.set(expiration - 1);
    expect(w.broker.status("audit").session).toEqual({ expiration, accessKeyId: key });
    w.clock.set(expiration);
    expect(w.broker.status("audit").session).toBeNull();
  });

  it("a served request leaves no timer of its own behind (only the window's closing and the session's end)", async () => {
    const w = await world();
    const win = w.broker.grant("audit", { durationMs: 30 * MINUTE, reason: "INC-1" });
    const r = track(w.broker.credentials("audit"));
    await settle();
    w.minter.answer(0);
    expect(await r()).toHaveProperty("accessKeyId");
    expect(w.timers.size).toBe(2);
    expect(w.timers.next()).toBe(win.end - 5 * MINUTE);
  });
});

describe("a window's end moved by less than a second (the policy, which counts whole seconds, is the same)", () => {
  it("an extension 300 ms later is a new window: a request waits for its mint, not the old session", async () => {
    const w = await world(auditProfile({ max_window: "4h" }));
    w.clock.set(Math.floor(w.clock.now() / 1000) * 1000 + 100);
    const { end, key } = await grantMinted(w);
    w.clock.advance(300);
    const longer = w.broker.grant("audit", { durationMs: 30 * MINUTE, reason: "again" });
    expect(longer.end).toBe(end + 300);
    const r = track(w.broker.credentials("audit"));
    expect(await r()).toBe("pending");
    const m = w.minter.answer(1);
    expect(((await r()) as Session).accessKeyId).toBe(m.accessKeyId);
    expect(m.accessKeyId).not.toBe(key);
  });

  it("after a restart, a vault session of a window that ended 300 ms earlier leaves the vault at once", async () => {
    const w = await world();
    w.clock.set(Math.floor(w.clock.now() / 1000) * 1000 + 100);
    const { end } = await grantMinted(w);
    const cfg = w.config.profiles.audit!;
    w.clock.advance(300);
    w.windows.revoke("audit", w.clock.now());
    expect(w.windows.grant("audit", { durationMs: 30 * MINUTE, reason: "again" }, cfg, w.clock.now()).end).toBe(end + 300);
    const broker = await restarted(w);
    const r = track(broker.credentials("audit"));
    expect(await r()).toBe("pending");
    expect(await vaultSessions(w)).toEqual([]);
  });
});

describe("the vault after a restart", () => {
  it("a session of another window is not served, and leaves the vault at once", async () => {
    const w = await world();
    const { key } = await grantMinted(w);
    const cfg = w.config.profiles.audit!;
    w.windows.revoke("audit", w.clock.now());
    w.windows.grant("audit", { durationMs: 45 * MINUTE, reason: "longer" }, cfg, w.clock.now());
    const broker = await restarted(w);
    const r = track(broker.credentials("audit"));
    expect(await r()).toBe("pending");
    expect(w.minter.calls).toHaveLength(2);
    expect(await vaultSessions(w)).toEqual([]);
    w.minter.answer(1);
    expect(((await r()) as Session).accessKeyId).not.toBe(key);
  });

  it("a session minted under a wider scope is not served after a narrowing reload, and leaves the vault", async () => {
    const w = await world();
    await grantMinted(w);
    w.config = configOf(auditProfile({ scope: ["audit-logs/2026/"] }));
    const broker = await restarted(w);
    const r = track(broker.credentials("audit"));
    expect(await r()).toBe("pending");
    expect(await vaultSessions(w)).toEqual([]);
  });

  it("a stored session that would outlive its window is never served, and leaves the vault", async () => {
    const w = await world();
    const { end, key } = await grantMinted(w);
    const vault = await Secrets.open(w.store);
    const s = vault.take<Session>("session", "audit", w.clock.now())!;
    await vault.put("session", "audit", { ...s, expiration: end + 60 * MINUTE }, end + 60 * MINUTE);
    const broker = await restarted(w);
    const r = track(broker.credentials("audit"));
    expect(await r()).toBe("pending");
    expect(await vaultSessions(w)).toEqual([]);
    w.minter.answer(1);
    const served = (await r()) as Session;
    expect(served.accessKeyId).not.toBe(key);
    expect(served.expiration).toBeLessThanOrEqual(end);
  });
});

describe("state changes while the keychain writes", () => {
  it("revoke during the vault write: the waiting request is refused, no mint line, nothing kept", async () => {
    const w = await world();
    w.broker.grant("audit", { durationMs: 30 * MINUTE, reason: "INC-1" });
    const r = track(w.broker.credentials("audit"));
    await settle();
    const held = holdVaultWrites(w);
    w.minter.answer(0);
    await settle();
    expect(held).toHaveLength(1);
    const revoked = w.broker.revoke("audit");
    held[0]!();
    await revoked;
    expect(await r()).toBeInstanceOf(WindowClosedError);
    expect(w.audit.map((a) => a.event)).toEqual(["grant", "revoke"]);
    expect(await vaultSessions(w)).toEqual([]);
    expect(w.broker.status("audit").session).toBeNull();
  });

  it("a reload during the vault write: the session leaves memory and the vault, the request waits for a mint under the new config", async () => {
    const w = await world();
    w.broker.grant("audit", { durationMs: 30 * MINUTE, reason: "INC-1" });
    const r = track(w.broker.credentials("audit"));
    await settle();
    const held = holdVaultWrites(w);
    const old = w.minter.answer(0);
    await settle();
    w.config = configOf(auditProfile());
    held[0]!();
    await settle();
    expect(await r()).toBe("pending");
    expect(w.minter.calls).toHaveLength(2);
    expect(await vaultSessions(w)).toEqual([]);
    expect(w.broker.status("audit").session).toBeNull();
    const m = w.minter.answer(1);
    await settle();
    expect(held).toHaveLength(2);
    held[1]!();
    const served = (await r()) as Session;
    expect(served.accessKeyId).toBe(m.accessKeyId);
    expect(served.accessKeyId).not.toBe(old.accessKeyId);
  });

  it("a stale mint's clean-up after its vault write leaves the newer session that replaced it, in memory and the vault", async () => {
    const w = await world();
    // The grant's mint ahead, which nobody waits for (a waiting request would find the newer
    // session again in the vault when it decides again).
    w.broker.grant("audit", { durationMs: 30 * MINUTE, reason: "INC-1" });
    await settle();
    const held = holdVaultWrites(w);
    w.minter.answer(0);
    await settle();
    expect(held).toHaveLength(1);
    // A narrowing reload while the old session's vault write hangs; a new request mints under it.
    w.config = configOf(auditProfile({ scope: ["audit-logs/2026/"] }));
    const r2 = track(w.broker.credentials("audit"));
    await settle();
    const newer = w.minter.answer(1);
    await settle();
    // The old write ends first (one item's calls run in order), then the newer one.
    held[0]!();
    await settle();
    expect(held).toHaveLength(2);
    held[1]!();
    expect(((await r2()) as Session).accessKeyId).toBe(newer.accessKeyId);
    expect(w.broker.status("audit").session?.accessKeyId).toBe(newer.accessKeyId);
    expect(await vaultSessions(w)).toEqual([newer.accessKeyId]);
    expect(w.minter.calls).toHaveLength(2);
  });
});

describe("state changes that come more than once", () => {
  it("a second revoke and re-grant during mints voids the second mint too", async () => {
    const w = await world();
    for (let round = 0; round < 3; round++) {
      if (round > 0) await w.broker.revoke("audit");
      // The clock does not move: every window ends at the same instant.
      w.broker.grant("audit", { durationMs: 30 * MINUTE, reason: `INC-${round}` });
      await settle();
      expect(w.minter.calls).toHaveLength(round + 1);
    }
    const first = w.minter.answer(0);
    const second = w.minter.answer(1);
    const third = w.minter.answer(2);
    await settle();
    expect(await vaultSessions(w)).toEqual([third.accessKeyId]);
    expect(w.vaultKeys).not.toContain(first.accessKeyId);
    expect(w.vaultKeys).not.toContain(second.accessKeyId);
  });

  it("a request left on a mint overtaken by a newer one that finished first is served the newer session", async () => {
    const w = await world();
    w.broker.grant("audit", { durationMs: 30 * MINUTE, reason: "INC-1" });
    const r1 = track(w.broker.credentials("audit"));
    await settle();
    w.config = configOf(auditProfile());
    const r2 = track(w.broker.credentials("audit"));
    await settle();
    expect(w.minter.calls).toHaveLength(2);
    const newer = w.minter.answer(1);
    expect(((await r2()) as Session).accessKeyId).toBe(newer.accessKeyId);
    w.minter.answer(0);
    expect(((await r1()) as Session).accessKeyId).toBe(newer.accessKeyId);
  });

  it("purgeAll also forgets the session of a profile a reload removed", async () => {
    const w = await world(auditProfile() + OTHER_PROFILE_TOML);
    await grantMinted(w);
    const { key } = await grantMinted(w, 30, "other");
    expect(await vaultSessions(w)).toHaveLength(2);
    w.config = configOf(auditProfile());
    await w.broker.purgeAll();
    expect(await vaultSessions(w)).toEqual([]);
    expect(w.vaultKeys).toContain(key);
  });
});
