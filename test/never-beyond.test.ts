import { afterAll, beforeAll, describe, expect, it } from "vitest";
import fc from "fast-check";
import { ManualClock } from "../src/clock.js";
import { Broker } from "../src/broker/broker.js";
import { nullAudit } from "../src/audit/audit.js";
import { parseConfig } from "../src/config/load.js";
import { MemoryStore } from "../src/store/memory.js";
import { Secrets } from "../src/store/secrets.js";
import { AwsSsoApi } from "../src/sso/api.js";
import { SsoLogins } from "../src/sso/logins.js";
import { AwsMinter } from "../src/sts/mint.js";
import { WindowBook } from "../src/windows/windows.js";
import { MintPendingError, WindowClosedError } from "../src/errors.js";
import { startSandbox, type Sandbox } from "./sandbox/server.js";
import { propertySeed } from "./helpers/seed.js";
import { profileToml, ROLE_ARN, SSO_TOML } from "./helpers/config.js";

/**
 * "Never beyond the window" as properties: the real broker, SSO and STS clients against the
 * sandbox, with one clock the test moves for both. Every property run opens a random window and
 * asks at a random moment around it.
 */
// Fewer under mutation testing (stryker.config.mjs sets S3JIT_PROPERTY_RUNS): each mutant runs it.
const RUNS = Math.min(60, Number(process.env.S3JIT_PROPERTY_RUNS ?? 60));

const KEYS = { scope: ["audit-logs/2026/"], max_window: "8h", session_ttl: "1h" };
const CONFIG = SSO_TOML + profileToml("scoped", KEYS) + profileToml("chained", { role_arn: ROLE_ARN, ...KEYS });

describe("never beyond the window (properties over random windows and request times)", () => {
  const clock = new ManualClock(Date.now());
  const config = parseConfig(CONFIG, "/test/config.toml");
  let sandbox: Sandbox;
  let secrets: Secrets;
  let logins: SsoLogins;
  let t0 = 0;
  const saved = { ...process.env };

  beforeAll(async () => {
    // Role credentials live 12 h here, so the window, not the parent, bounds the scoped session.
    sandbox = await startSandbox({ autoApprove: true, now: () => clock.now(), roleCredentialsTtlSeconds: 12 * 3600, accessTokenTtlSeconds: 24 * 3600 });
    Object.assign(process.env, { AWS_ENDPOINT_URL_STS: sandbox.url, AWS_ENDPOINT_URL_SSO: sandbox.url, AWS_ENDPOINT_URL_SSO_OIDC: sandbox.url });
    secrets = await Secrets.open(new MemoryStore());
    logins = new SsoLogins({ api: new AwsSsoApi(() => clock.now()), vault: secrets, clock, sso: () => config.sso });
    await logins.startLogin("corp");
    await logins.waitLogin("corp");
    t0 = clock.now();
  });
  afterAll(async () => {
    await sandbox?.close();
    for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
  });

  async function ask(broker: Broker, profile: string) {
    for (;;) {
      try {
        return await broker.credentials(profile);
      } catch (err) {
        if (err instanceof MintPendingError) continue;
        throw err;
      }
    }
  }

  it(`no credential outside an open window; every Expiration ≤ the window's end; AWS-side life ends there too (${RUNS} runs per mode)`, async () => {
    let served = 0;
    let refused = 0;
    for (const profile of ["scoped", "chained"]) {
      await fc.assert(
        fc.asyncProperty(
          fc.integer({ min: 60, max: 8 * 3600 }), // window length, s
          fc.double({ min: -0.2, max: 1.3, noNaN: true }), // when the request comes, as a fraction of it
          async (lengthS, at) => {
            // Every run starts at the same instant with its own windows and session cache, so runs
            // are independent and the login (refresh, expiry) is not what is under test here.
            clock.set(t0);
            const windows = new WindowBook();
            const vault = await Secrets.open(new MemoryStore());
            const broker = new Broker({ config: () => config, clock, windows, logins, minter: new AwsMinter(), vault, audit: nullAudit, requestWaitMs: 30_000 });
            try {
              const start = clock.now();
              const w = broker.grant(profile, { durationMs: lengthS * 1000, reason: "property" });
              const mintsBefore = sandbox.requests.length;
              clock.set(start + Math.round(at * lengthS * 1000));
              const now = clock.now();
              const open = now >= w.start && now < w.end;
              let session;
              try {
                session = await ask(broker, profile);
              } catch (err) {
                expect(err).toBeInstanceOf(WindowClosedError);
                expect(open).toBe(false);
                refused++;
                return;
              }
              expect(open).toBe(true);
              served++;
              expect(session.expiration).toBeLessThanOrEqual(w.end);
              expect(session.expiration).toBeGreaterThan(now);
              const mint = sandbox.requests.slice(mintsBefore).filter((r) => r.action === "GetScopedCredentials" || r.action === "AssumeRole").at(-1);
              const lastMint = mint ?? sandbox.requests.filter((r) => r.action === "GetScopedCredentials" || r.action === "AssumeRole").at(-1)!;
              const policy = JSON.parse(String(lastMint.params.Policy)) as { Statement: Array<{ Effect: string; Action?: string; Condition?: Record<string, Record<string, string>> }> };
              const deny = policy.Statement.find((st) => st.Effect === "Deny" && st.Action === "*");
              expect(Date.parse(deny!.Condition!.DateGreaterThanEquals!["aws:CurrentTime"]!)).toBeLessThanOrEqual(w.end);
              expect(Date.parse(deny!.Condition!.DateGreaterThanEquals!["aws:CurrentTime"]!)).toBeGreaterThan(w.end - 1000);
              if (profile === "scoped" && mint) {
                expect(Number(mint.params.DurationSeconds) * 1000).toBeLessThanOrEqual(w.end - mint.at);
              }
            } finally {
              broker.close();
            }
          },
        ),
        { numRuns: RUNS, seed: propertySeed() + (profile === "chained" ? 1 : 0) },
      );
    }
    console.log(`never-beyond properties: ${2 * RUNS} runs, ${served} served, ${refused} refused`);
    expect(served).toBeGreaterThan(0);
    expect(refused).toBeGreaterThan(0);
  }, 120_000);
});
