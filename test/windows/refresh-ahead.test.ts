import { until } from "../helpers/wait.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import fc from "fast-check";
import { ManualClock, ManualTimers } from "../../src/clock.js";
import { Broker, REFRESH_AHEAD_MS } from "../../src/broker/broker.js";
import { nullAudit } from "../../src/audit/audit.js";
import { parseConfig } from "../../src/config/load.js";
import { MemoryStore } from "../../src/store/memory.js";
import { Secrets } from "../../src/store/secrets.js";
import { AwsSsoApi } from "../../src/sso/api.js";
import { SsoLogins } from "../../src/sso/logins.js";
import { AwsMinter } from "../../src/sts/mint.js";
import { WindowBook } from "../../src/windows/windows.js";
import { WindowClosedError } from "../../src/errors.js";
import { PARENT_MARGIN_MS } from "../../src/sts/rules.js";
import { startSandbox, type Sandbox } from "../sandbox/server.js";
import { propertySeed } from "../helpers/seed.js";
import { profileToml, SSO_TOML } from "../helpers/config.js";

/**
 * Background refresh while a window goes on, as a property: the real broker, SSO and STS clients
 * against the sandbox. The broker's timers come through the injected Timers port: ManualTimers
 * moves the clock from one timer to the next and lets each mint it starts finish before time goes
 * on, so "three hours later" takes no time and a timer fires when its moment comes.
 * Every request in between must be answered from the cache (no STS call on the request path) with
 * a session that is still far from the SDKs' refresh marks (DESIGN.md §2), unless it ends with the
 * window (nothing longer may exist).
 */
// Fewer under mutation testing (stryker.config.mjs sets S3JIT_PROPERTY_RUNS): each mutant runs it.
const RUNS = Math.min(60, Number(process.env.S3JIT_PROPERTY_RUNS ?? 60));
const JS_SDK_MARK = 5 * 60_000;
const BOTOCORE_MARK = 15 * 60_000;
const MINUTE = 60_000;
const BASE_TTL_MS = 60 * MINUTE;
const TTLS = ["20m", "30m", "1h", "2h"] as const;
const TTL_MS: Record<(typeof TTLS)[number], number> = { "20m": 20 * MINUTE, "30m": 30 * MINUTE, "1h": 60 * MINUTE, "2h": 120 * MINUTE };

const configFor = (ttl: string) =>
  parseConfig(SSO_TOML + profileToml("scoped", { scope: ["audit-logs/2026/"], max_window: "8h", session_ttl: ttl }), "/test/config.toml");

const MINTS = new Set(["GetScopedCredentials", "AssumeRole"]);

describe("background refresh ahead of the SDK refresh marks, while the window goes on", () => {
  const clock = new ManualClock(Date.now());
  let sandbox: Sandbox;
  let secrets: Secrets;
  let store: MemoryStore;
  let logins: SsoLogins;
  const saved = { ...process.env };

  beforeAll(async () => {
    // Role credentials live 1 h (a permission set's default): a scoped session never outlives its
    // parent, so the broker must fetch fresh ones rather than mint short sessions from old ones.
    sandbox = await startSandbox({ autoApprove: true, now: () => clock.now(), roleCredentialsTtlSeconds: BASE_TTL_MS / 1000, accessTokenTtlSeconds: 24 * 3600 });
    Object.assign(process.env, { AWS_ENDPOINT_URL_STS: sandbox.url, AWS_ENDPOINT_URL_SSO: sandbox.url, AWS_ENDPOINT_URL_SSO_OIDC: sandbox.url });
    store = new MemoryStore();
    secrets = await Secrets.open(store);
    const config = configFor("1h");
    logins = new SsoLogins({ api: new AwsSsoApi(() => clock.now()), vault: secrets, clock, sso: () => config.sso });
    await logins.startLogin("corp");
    await logins.waitLogin("corp");
  });
  afterAll(async () => {
    await sandbox?.close();
    for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
  });

  const mintCount = () => sandbox.requests.filter((r) => MINTS.has(r.action ?? "")).length;
  /**
   * Let mints the timers started finish (real time passes for the sandbox's HTTP; the manual clock
   * does not move). The bound only fails a hung mint: a loaded machine may take seconds.
   */
  async function settle(broker: Broker, profile: string): Promise<void> {
    await new Promise((r) => setTimeout(r, 2));
    await until("the mint to finish", () => !broker.status(profile).minting);
  }
  /** Move time on by `ms`, timer by timer: each mint a timer starts finishes before time goes on. */
  async function pass(timers: ManualTimers, broker: Broker, profile: string, ms: number): Promise<void> {
    const end = clock.now() + ms;
    for (let next = timers.next(); next !== null && next <= end; next = timers.next()) {
      timers.advance(next - clock.now());
      await settle(broker, profile);
    }
    timers.advance(end - clock.now());
    await settle(broker, profile);
  }

  it(`serves from a cache refreshed in the background, never near the SDK marks, with a bounded number of mints (${RUNS} runs)`, async () => {
    const counts = { runs: 0, requests: 0, overBotocoreMark: 0, endsWithWindow: 0, refreshes: 0, maxMintsPerWindow: 0 };
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...TTLS),
        fc.integer({ min: 45 * 60, max: 6 * 3600 }), // window length, s
        // Steps between requests in ms, not whole seconds: mints happen at odd instants.
        fc.array(fc.integer({ min: 20_000, max: 12 * MINUTE }), { minLength: 200, maxLength: 200 }),
        fc.integer({ min: 0, max: 999 }),
        async (ttl, lengthS, steps, offsetMs) => {
          const timers = new ManualTimers(clock);
          const config = configFor(ttl);
          // What a session can last: session_ttl, or the base credentials' life less the margin a
          // scoped session keeps inside its parent, if that is shorter.
          const ttlMs = Math.min(TTL_MS[ttl], BASE_TTL_MS - PARENT_MARGIN_MS);
          const broker = new Broker({ config: () => config, clock, timers, windows: new WindowBook(), logins, minter: new AwsMinter(), vault: secrets, audit: nullAudit, requestWaitMs: 30_000 });
          try {
            clock.advance(offsetMs);
            const before = mintCount();
            const w = broker.grant("scoped", { durationMs: lengthS * 1000, reason: "property" });
            await settle(broker, "scoped");
            expect(broker.status("scoped").lastRefusal).toBeNull();
            expect(mintCount() - before).toBe(1); // minted ahead, at the grant
            let i = 0;
            while (clock.now() < w.end) {
              const now = clock.now();
              const n0 = mintCount();
              // STS rounds to whole seconds, so the session that ends with the window may end up
              // to 2 s before it. In that last sliver it may already have expired: the request then
              // mints what is left of the window (DurationSeconds 1, STS's Expiration at or before
              // the end) or, with under a second left, is answered WindowClosed — never a stale
              // credential. (Whether it mints there depends on the millisecond the old session's
              // Expiration was truncated to, so the test allows either.)
              const lastSliver = w.end - now < 2000;
              if (lastSliver) {
                const r = await broker.credentials("scoped").then(
                  (s) => s,
                  (e: unknown) => e,
                );
                if (r instanceof WindowClosedError) break;
              }
              const s = await broker.credentials("scoped");
              counts.requests++;
              // Served from the cache: the request path never waited on STS (but in the last
              // sliver, for the one mint of what is left).
              if (lastSliver) expect(mintCount() - n0).toBeLessThanOrEqual(1);
              else expect(mintCount()).toBe(n0);
              expect(s.expiration).toBeLessThanOrEqual(w.end);
              const life = s.expiration - now;
              // STS counts whole seconds (DurationSeconds rounded down, Expiration to the second).
              const endsWithWindow = w.end - s.expiration < 2000;
              if (endsWithWindow) counts.endsWithWindow++;
              else {
                // Refreshed when min(20 min, a third of its life) was left: never at the JS SDK's
                // 5-minute mark, and for sessions of 45 min or more never at botocore's 15 minutes.
                expect(life).toBeGreaterThan(JS_SDK_MARK);
                expect(life).toBeGreaterThanOrEqual(Math.min(REFRESH_AHEAD_MS, ttlMs / 3) - 1000);
                if (ttlMs >= 45 * MINUTE) expect(life).toBeGreaterThan(BOTOCORE_MARK);
                if (life > BOTOCORE_MARK) counts.overBotocoreMark++;
              }
              await pass(timers, broker, "scoped", Math.min(steps[i++ % steps.length]!, Math.max(1, w.end - clock.now())));
            }
            const mints = mintCount() - before;
            counts.refreshes += mints - 1;
            counts.maxMintsPerWindow = Math.max(counts.maxMintsPerWindow, mints);
            // One mint at the grant, then one per refresh: a refresh buys at least ttl − min(20 min, ttl/3).
            const perRefresh = ttlMs - Math.min(REFRESH_AHEAD_MS, ttlMs / 3);
            expect(mints).toBeLessThanOrEqual(1 + Math.ceil((lengthS * 1000) / perRefresh) + 1);
            // The window's end (its timer fired above): no session left in memory or the keychain.
            expect(broker.status("scoped").session).toBeNull();
            expect(secrets.take("session", "scoped", clock.now())).toBeNull();
            expect((await store.list()).filter((k) => k.startsWith("session:"))).toEqual([]);
            await expect(broker.credentials("scoped")).rejects.toBeInstanceOf(WindowClosedError);
            counts.runs++;
          } finally {
            broker.close();
          }
        },
      ),
      // Each run moves the shared clock hours on (the sandbox's SSO registration lives 90 days):
      // no shrinking, the first counterexample is reported as found.
      { numRuns: RUNS, endOnFailure: true, seed: propertySeed() },
    );
    console.log(`refresh-ahead properties: ${JSON.stringify(counts)}`);
    expect(counts.runs).toBe(RUNS);
    expect(counts.refreshes).toBeGreaterThan(RUNS);
  }, 120_000);
});
