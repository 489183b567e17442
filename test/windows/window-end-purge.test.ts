import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ManualClock, ManualTimers } from "../../src/clock.js";
import { Broker } from "../../src/broker/broker.js";
import { nullAudit } from "../../src/audit/audit.js";
import { parseConfig } from "../../src/config/load.js";
import { MemoryStore } from "../../src/store/memory.js";
import { Secrets } from "../../src/store/secrets.js";
import { AwsSsoApi } from "../../src/sso/api.js";
import { SsoLogins } from "../../src/sso/logins.js";
import { AwsMinter } from "../../src/sts/mint.js";
import { WindowBook } from "../../src/windows/windows.js";
import { WindowClosedError } from "../../src/errors.js";
import { startSandbox, type Sandbox } from "../sandbox/server.js";
import { PROFILE_TOML, SSO_TOML } from "../helpers/config.js";

/**
 * A laptop that slept through the window's end: the broker's end-of-window timer (20 minutes away,
 * on ManualTimers that the test never advances) has not fired, yet the clock is past the end. The next request
 * must be refused and must itself purge the session from memory and from the keychain.
 */
describe("window's end without its timer: the refusal purges", () => {
  const clock = new ManualClock(Date.now());
  const config = parseConfig(SSO_TOML + PROFILE_TOML, "/test/config.toml");
  let sandbox: Sandbox;
  let store: MemoryStore;
  let secrets: Secrets;
  let logins: SsoLogins;
  const saved = { ...process.env };

  beforeAll(async () => {
    sandbox = await startSandbox({ autoApprove: true, now: () => clock.now() });
    Object.assign(process.env, { AWS_ENDPOINT_URL_STS: sandbox.url, AWS_ENDPOINT_URL_SSO: sandbox.url, AWS_ENDPOINT_URL_SSO_OIDC: sandbox.url });
    store = new MemoryStore();
    secrets = await Secrets.open(store);
    logins = new SsoLogins({ api: new AwsSsoApi(() => clock.now()), vault: secrets, clock, sso: () => config.sso });
    await logins.startLogin("corp");
    await logins.waitLogin("corp");
  });
  afterAll(async () => {
    await sandbox?.close();
    for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
  });

  it("grant 20 m → credentials → clock +21 m → WindowClosed naming `s3jit grant`, nothing left in memory or keychain", async () => {
    const timers = new ManualTimers(clock);
    const broker = new Broker({ config: () => config, clock, timers, windows: new WindowBook(), logins, minter: new AwsMinter(), vault: secrets, audit: nullAudit, requestWaitMs: 30_000 });
    try {
      const w = broker.grant("audit", { durationMs: 20 * 60_000, reason: "INC-1" });
      const s = await broker.credentials("audit");
      expect(s.expiration).toBeLessThanOrEqual(w.end);
      expect((await store.list()).filter((k) => k.startsWith("session:"))).toHaveLength(1);

      clock.advance(21 * 60_000);
      expect(timers.next()).toBeLessThanOrEqual(w.end + 5);
      const err = await broker.credentials("audit").catch((e: unknown) => e);
      expect(err).toBeInstanceOf(WindowClosedError);
      expect((err as Error).message).toContain("s3jit grant audit");
      expect(broker.status("audit")).toMatchObject({ window: null, session: null, lastRefusal: { code: "WindowClosed" } });
      // The purge on the refusal path reaches the store (the keychain in production) too.
      await new Promise((r) => setImmediate(r));
      expect((await store.list()).filter((k) => k.startsWith("session:"))).toEqual([]);
      expect(secrets.take("session", "audit", clock.now() - 60 * 60_000)).toBeNull();
      // …and a new grant starts from nothing: a fresh mint, not the old session.
      broker.grant("audit", { durationMs: 10 * 60_000, reason: "INC-2" });
      const again = await broker.credentials("audit");
      expect(again.accessKeyId).not.toBe(s.accessKeyId);
    } finally {
      broker.close();
    }
  });
});
