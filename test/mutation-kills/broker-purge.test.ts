import { describe, expect, it } from "vitest";
import { Broker } from "../../src/broker/broker.js";
import { nullAudit } from "../../src/audit/audit.js";
import { Secrets } from "../../src/store/secrets.js";
import { WindowClosedError } from "../../src/errors.js";
import { settle, vaultSessions, world, type World } from "../broker/harness.js";

/**
 * Revoke, logout and a window's end purge the session from memory and from the vault (the
 * keychain's stand-in here): the stored state is read directly, not through status, which hides
 * a session anyway once the window is closed.
 */

const MINUTE = 60_000;

async function minted(w: World): Promise<string> {
  w.broker.grant("audit", { durationMs: 30 * MINUTE, reason: "INC-1" });
  await settle();
  const s = w.minter.answer(0);
  await settle();
  expect(await vaultSessions(w)).toEqual([s.accessKeyId]);
  return s.accessKeyId;
}

/** What a daemon restarted on the same store would find: a fresh broker, the same vault. */
async function restartedSees(w: World): Promise<string | null> {
  const vault = await Secrets.open(w.store);
  // The same window as before (the clock has not moved), opened in the book only: the old broker
  // must not mint for it, and the session policy (which carries the end) is the one minted under.
  if (!w.windows.get("audit", w.clock.now())) w.windows.grant("audit", { durationMs: 30 * MINUTE, reason: "again" }, w.config.profiles.audit!, w.clock.now());
  const again = new Broker({ config: () => w.config, clock: w.clock, timers: w.timers, windows: w.windows, logins: w.logins, minter: w.minter, vault, audit: nullAudit });
  const before = w.minter.calls.length;
  const served = again.credentials("audit").then(
    (s) => s.accessKeyId,
    () => null,
  );
  await settle();
  // A restored session is served without a mint; a purged one needs one.
  if (w.minter.calls.length > before) return null;
  return served;
}

describe("purges reach the vault", () => {
  it("revoke removes the session from memory and the vault at once", async () => {
    const w = await world();
    const key = await minted(w);
    await w.broker.revoke("audit");
    expect(await vaultSessions(w)).toEqual([]);
    expect(w.vaultKeys).toEqual([key]);
    await expect(w.broker.credentials("audit")).rejects.toBeInstanceOf(WindowClosedError);
    expect(await restartedSees(w)).toBeNull();
  });

  it("logout of the SSO instance removes its profiles' sessions from the vault", async () => {
    const w = await world();
    await minted(w);
    await w.broker.loggedOut("corp");
    expect(await vaultSessions(w)).toEqual([]);
    expect(await restartedSees(w)).toBeNull();
  });

  it("purgeAll (a config change) empties the vault of sessions", async () => {
    const w = await world();
    await minted(w);
    await w.broker.purgeAll();
    expect(await vaultSessions(w)).toEqual([]);
  });

  it("the window's end removes the session from the vault when its timer fires", async () => {
    const w = await world();
    await minted(w);
    await w.timers.advanceAsync(30 * MINUTE);
    await settle();
    expect(w.broker.status("audit").window).toBeNull();
    expect(await vaultSessions(w)).toEqual([]);
    expect(w.audit.filter((a) => a.event === "expire")).toHaveLength(1);
  });

  it("a session kept in the vault is what a restart serves (the check above can see one)", async () => {
    const w = await world();
    const key = await minted(w);
    expect(await restartedSees(w)).toBe(key);
  });
});
