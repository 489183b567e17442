import { describe, expect, it } from "vitest";
import { ManualClock } from "../clock.js";
import type { SsoConfig } from "../config/types.js";
import { S3jitError } from "../errors.js";
import { TokenPollFailure, type DeviceAuthorization, type Registration, type SsoApi, type TokenGrant, type TokenPollError } from "./api.js";
import { startDeviceLogin } from "./device-login.js";

const CFG: SsoConfig = { name: "corp", startUrl: "https://corp.awsapps.com/start", region: "eu-west-1", scopes: ["sso:account:access"], autoLogin: false };
const REG: Registration = { clientId: "client", clientSecret: "secret", expiresAt: Date.UTC(2027, 0, 1), flow: "device" };
const T0 = Date.UTC(2026, 10, 28, 10, 0, 0);
const GRANT: TokenGrant = { accessToken: "at", expiresAt: T0 + 3600_000, refreshToken: "rt" };

/**
 * The device flow against an issuer that answers each poll from a script (a TokenPollError, or
 * the token), with an interval other than the sandbox's 1 s: each wait is checked to the millisecond.
 */
function scripted(answers: Array<TokenPollError | "token">, opts: { intervalSeconds?: number; expiresInMs?: number } = {}) {
  const clock = new ManualClock(T0);
  const sleeps: number[] = [];
  const polls: Array<{ region: string; deviceCode: string; at: number }> = [];
  const completed: TokenGrant[] = [];
  let cancelled = false;
  const auth: DeviceAuthorization = {
    deviceCode: "device-code",
    userCode: "ABCD-EFGH",
    verificationUri: "https://device.sso.eu-west-1.amazonaws.com/",
    verificationUriComplete: "https://device.sso.eu-west-1.amazonaws.com/?user_code=ABCD-EFGH",
    expiresAt: T0 + (opts.expiresInMs ?? 600_000),
    intervalSeconds: opts.intervalSeconds ?? 7,
  };
  const starts: Array<{ region: string; reg: Registration; startUrl: string }> = [];
  const api = {
    async startDeviceAuthorization(region: string, reg: Registration, startUrl: string) {
      starts.push({ region, reg, startUrl });
      return auth;
    },
    async createTokenFromDeviceCode(region: string, _reg: Registration, deviceCode: string) {
      polls.push({ region, deviceCode, at: clock.now() });
      const next = answers.shift();
      if (next === undefined) throw new Error("polled past the script");
      if (next === "token") return GRANT;
      throw new TokenPollFailure(next);
    },
  } as unknown as SsoApi;
  const start = () =>
    startDeviceLogin(
      {
        api,
        clock,
        name: "corp",
        cfg: CFG,
        registration: REG,
        complete: async (t) => {
          completed.push(t);
        },
        cancelled: () => cancelled,
      },
      async (ms) => {
        sleeps.push(ms);
        clock.advance(ms);
      },
    );
  return { clock, sleeps, polls, completed, starts, start, cancel: () => (cancelled = true), auth };
}

describe("device code login (RFC 8628)", () => {
  it("shows the verification page, the code and when it expires", async () => {
    const s = scripted(["token"]);
    const flow = await s.start();
    expect(flow.prompt).toEqual({
      sso: "corp",
      flow: "device",
      url: s.auth.verificationUriComplete,
      verificationUri: s.auth.verificationUri,
      userCode: "ABCD-EFGH",
      expiresAt: new Date(T0 + 600_000).toISOString(),
    });
    await flow.done;
    expect(s.starts).toEqual([{ region: "eu-west-1", reg: REG, startUrl: CFG.startUrl }]);
    // The first poll is at once; the token is stored.
    expect(s.sleeps).toEqual([]);
    expect(s.polls).toEqual([{ region: "eu-west-1", deviceCode: "device-code", at: T0 }]);
    expect(s.completed).toEqual([GRANT]);
  });

  it("waits the issuer's interval between polls while the login is pending", async () => {
    const s = scripted(["AuthorizationPending", "AuthorizationPending", "token"]);
    await (await s.start()).done;
    expect(s.sleeps).toEqual([7000, 7000]);
    expect(s.polls.map((p) => p.at - T0)).toEqual([0, 7000, 14_000]);
    expect(s.completed).toEqual([GRANT]);
  });

  it("SlowDown adds exactly 5 seconds to the interval, for that poll and every later one", async () => {
    const s = scripted(["AuthorizationPending", "SlowDown", "AuthorizationPending", "SlowDown", "AuthorizationPending", "token"]);
    await (await s.start()).done;
    expect(s.sleeps).toEqual([7000, 12_000, 12_000, 17_000, 17_000]);
    expect(s.completed).toEqual([GRANT]);
  });

  it.each([
    ["ExpiredToken", "LoginExpired"],
    ["AccessDenied", "LoginDenied"],
    ["InvalidGrant", "LoginDenied"],
  ] as const)("%s ends the login with %s and stores nothing", async (answer, code) => {
    const s = scripted(["AuthorizationPending", answer]);
    const flow = await s.start();
    const err = await flow.done.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(S3jitError);
    expect((err as S3jitError).code).toBe(code);
    expect(s.completed).toEqual([]);
    expect(s.polls).toHaveLength(2);
  });

  it("stops polling once the code's life is over: the poll at the expiry instant is not made", async () => {
    // Polls at 0, 7 s, 14 s; the code expires at 14 s exactly.
    const s = scripted(["AuthorizationPending", "AuthorizationPending", "token"], { expiresInMs: 14_000 });
    const flow = await s.start();
    await expect(flow.done).rejects.toMatchObject({ code: "LoginExpired" });
    expect(s.polls.map((p) => p.at - T0)).toEqual([0, 7000]);
    expect(s.completed).toEqual([]);
  });

  it("polls one millisecond before the code expires", async () => {
    const s = scripted(["AuthorizationPending", "AuthorizationPending", "token"], { expiresInMs: 14_001 });
    await (await s.start()).done;
    expect(s.polls.map((p) => p.at - T0)).toEqual([0, 7000, 14_000]);
    expect(s.completed).toEqual([GRANT]);
  });

  it("a logout during the wait ends the login before the next poll", async () => {
    const s = scripted(["AuthorizationPending", "token"]);
    const flow = await s.start();
    s.cancel();
    await expect(flow.done).rejects.toMatchObject({ code: "LoginCancelled" });
    expect(s.polls).toHaveLength(1);
    expect(s.completed).toEqual([]);
  });

  it("an error that is no poll answer ends the login with that error", async () => {
    const s = scripted([]);
    const flow = await s.start();
    await expect(flow.done).rejects.toThrow("polled past the script");
    expect(s.completed).toEqual([]);
  });
});
