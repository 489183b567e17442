import { afterEach, describe, expect, it } from "vitest";
import { ManualClock } from "../clock.js";
import type { SsoConfig } from "../config/types.js";
import { LoginRequiredError } from "../errors.js";
import { startSandbox, type Sandbox } from "../../test/sandbox/server.js";
import { AwsSsoApi } from "./api.js";
import { SsoLogins } from "./logins.js";
import { memoryVault } from "../../test/sso/sandbox-login.js";

/** The poll interval the sandbox's StartDeviceAuthorization hands out (test/sandbox/sso-oidc.ts). */
const SANDBOX_POLL_INTERVAL_MS = 1000;

const SSO: Record<string, SsoConfig> = {
  corp: { name: "corp", startUrl: "https://corp.awsapps.com/start", region: "eu-west-1", scopes: ["sso:account:access"], autoLogin: false },
};

describe("SsoLogins over the wire (sandbox SSO-OIDC + portal)", () => {
  /** What one test works with: its own sandbox, clock, logins and record of the poller's waits. */
  interface World {
    sandbox: Sandbox;
    clock: ManualClock;
    logins: SsoLogins;
    /** What the poller asked to wait, in order (this test's only). */
    sleeps: number[];
    /** Runs `fn` as the poller starts its n-th wait (1-based): where a test approves the code. */
    onSleep(fn: (n: number) => void): void;
  }
  let opened: Sandbox | undefined;
  const saved = { oidc: process.env.AWS_ENDPOINT_URL_SSO_OIDC, sso: process.env.AWS_ENDPOINT_URL_SSO };

  async function setup(opts: { autoApprove?: boolean; accessTokenTtlSeconds?: number; scopes?: string[] } = {}): Promise<World> {
    const clock = new ManualClock(Date.now());
    const sandbox = await startSandbox({ now: () => clock.now(), autoApprove: opts.autoApprove ?? false, accessTokenTtlSeconds: opts.accessTokenTtlSeconds ?? 3600 });
    opened = sandbox;
    process.env.AWS_ENDPOINT_URL_SSO_OIDC = sandbox.url;
    process.env.AWS_ENDPOINT_URL_SSO = sandbox.url;
    const sleeps: number[] = [];
    let onSleep = (_n: number) => {};
    const sso = { corp: { ...SSO.corp!, scopes: opts.scopes ?? ["sso:account:access"] } };
    const logins = new SsoLogins({
      api: new AwsSsoApi(() => clock.now()),
      vault: memoryVault(),
      clock,
      sso: () => sso,
      // Time passes only when the test says so; record what the poller asked to wait.
      sleep: async (ms) => {
        sleeps.push(ms);
        onSleep(sleeps.length);
        clock.advance(ms);
      },
    });
    return { sandbox, clock, logins, sleeps, onSleep: (fn) => (onSleep = fn) };
  }

  afterEach(async () => {
    await opened?.close();
    opened = undefined;
    process.env.AWS_ENDPOINT_URL_SSO_OIDC = saved.oidc;
    process.env.AWS_ENDPOINT_URL_SSO = saved.sso;
    if (saved.oidc === undefined) delete process.env.AWS_ENDPOINT_URL_SSO_OIDC;
    if (saved.sso === undefined) delete process.env.AWS_ENDPOINT_URL_SSO;
  });

  it("device flow: polls while pending, succeeds once approved, registers with sso:account:access", async () => {
    const { sandbox, logins, sleeps, onSleep } = await setup();
    // Two polls see "pending"; the code is approved during the second wait (set before the
    // login starts, so no poll can run ahead of it).
    let code = "";
    onSleep((n) => {
      if (n === 2) sandbox.approve(code);
    });
    const prompt = await logins.startLogin("corp");
    code = prompt.userCode!;
    expect(prompt.userCode).toBeTruthy();
    expect(prompt.url).toContain("http");
    expect(prompt.flow).toBe("device");
    // A second caller joins the same flow: one code, one browser tab.
    expect((await logins.startLogin("corp")).userCode).toBe(prompt.userCode);
    const st = await logins.waitLogin("corp");
    expect(st.loggedIn).toBe(true);
    expect(sandbox.count("CreateToken")).toBe(3);
    expect(sleeps).toEqual([SANDBOX_POLL_INTERVAL_MS, SANDBOX_POLL_INTERVAL_MS]);
    expect(sandbox.count("RegisterClient")).toBe(1);
    expect(sandbox.count("StartDeviceAuthorization")).toBe(1);
    const reg = sandbox.requests.find((r) => r.action === "RegisterClient")!;
    expect(reg.params.scopes).toEqual(["sso:account:access"]);
    expect(await logins.accessToken("corp")).toBeTruthy();
  });

  it("device flow: SlowDown grows the interval by 5 seconds for later polls", async () => {
    const { sandbox, logins, sleeps, onSleep } = await setup();
    sandbox.inject({ action: "CreateToken", status: 400, code: "SlowDownException", times: 1 });
    // Poll 1 answers SlowDown, poll 2 pending; approved during the second wait, poll 3 succeeds.
    let code = "";
    onSleep((n) => {
      if (n === 2) sandbox.approve(code);
    });
    code = (await logins.startLogin("corp")).userCode!;
    await logins.waitLogin("corp");
    // The sandbox's device codes ask for 1 s: every wait after the SlowDown is 1 s + 5 s.
    // (device-login.test.ts checks the growth with other intervals.)
    expect(sandbox.count("CreateToken")).toBe(3);
    expect(sleeps).toEqual([SANDBOX_POLL_INTERVAL_MS + 5000, SANDBOX_POLL_INTERVAL_MS + 5000]);
  });

  it("device flow: an unapproved code expires and the login fails with what to do", async () => {
    const { clock, logins } = await setup();
    await logins.startLogin("corp");
    // Nobody approves for almost ten minutes; the next polls find the code expired.
    clock.advance(599_000);
    await expect(logins.waitLogin("corp")).rejects.toThrow(/s3jit login/);
    expect(logins.state("corp").loggedIn).toBe(false);
    expect(logins.state("corp").loginPending).toBe(false);
  });

  it("refresh: an expired access token is refreshed silently with exactly one CreateToken call", async () => {
    const { sandbox, clock, logins } = await setup({ autoApprove: true, accessTokenTtlSeconds: 600 });
    await logins.startLogin("corp");
    await logins.waitLogin("corp");
    const first = await logins.accessToken("corp");
    clock.advance(11 * 60_000);
    const before = sandbox.count("CreateToken");
    const tokens = await Promise.all(Array.from({ length: 10 }, () => logins.accessToken("corp")));
    expect(new Set(tokens).size).toBe(1);
    expect(tokens[0]).not.toBe(first);
    expect(sandbox.count("CreateToken") - before).toBe(1);
    expect(sandbox.requests.filter((r) => r.action === "CreateToken").at(-1)!.params.grantType).toBe("refresh_token");
    expect(sandbox.count("StartDeviceAuthorization")).toBe(1);
  });

  it("storm: 100 requests with an expired, unrefreshable login get LoginRequired at once and start no login", async () => {
    // No registration scopes: the issuer hands out no refresh token.
    const { sandbox, clock, logins } = await setup({ autoApprove: true, accessTokenTtlSeconds: 600, scopes: [] });
    await logins.startLogin("corp");
    await logins.waitLogin("corp");
    clock.advance(11 * 60_000);
    const devices = sandbox.count("StartDeviceAuthorization");
    const results = await Promise.allSettled(Array.from({ length: 100 }, () => logins.roleCredentials("corp", "123456789012", "S3JitBase")));
    expect(results.every((r) => r.status === "rejected" && r.reason instanceof LoginRequiredError)).toBe(true);
    expect(sandbox.count("StartDeviceAuthorization")).toBe(devices);
    expect(sandbox.count("GetRoleCredentials")).toBe(0);
  });

  it("role credentials come back with the portal's millisecond expiry and are reused", async () => {
    const { sandbox, clock, logins } = await setup({ autoApprove: true });
    await logins.startLogin("corp");
    await logins.waitLogin("corp");
    const a = await logins.roleCredentials("corp", "123456789012", "S3JitBase");
    const b = await logins.roleCredentials("corp", "123456789012", "S3JitBase");
    expect(a.expiration).toBeGreaterThan(clock.now() + 30 * 60_000);
    expect(a.expiration).toBeLessThan(clock.now() + 13 * 3600_000);
    expect(b.accessKeyId).toBe(a.accessKeyId);
    expect(sandbox.count("GetRoleCredentials")).toBe(1);
  });

  it("logout calls the portal's Logout and forgets the token", async () => {
    const { sandbox, logins } = await setup({ autoApprove: true });
    await logins.startLogin("corp");
    await logins.waitLogin("corp");
    await logins.logout("corp");
    expect(sandbox.count("Logout")).toBe(1);
    expect(logins.state("corp").loggedIn).toBe(false);
    await expect(logins.accessToken("corp")).rejects.toBeInstanceOf(LoginRequiredError);
  });
});
