import { describe, expect, it } from "vitest";
import { settle, track } from "../helpers/settle.js";
import { ManualClock } from "../../src/clock.js";
import type { SsoConfig } from "../../src/config/types.js";
import { LoginRequiredError, UsageError } from "../../src/errors.js";
import { TokenPollFailure, type Registration, type SsoApi, type TokenGrant } from "../../src/sso/api.js";
import { RoleCredentials } from "../../src/sso/role-credentials.js";
import { TokenKeeper, type StoredLogin } from "../../src/sso/tokens.js";
import { MemoryStore } from "../../src/store/memory.js";
import { Secrets } from "../../src/store/secrets.js";
import type { AwsCredentials } from "../../src/types.js";
import { deferred, type Deferred } from "../broker/harness.js";

/**
 * The token keeper and the role-credential cache at their edges, against IAM Identity Center held
 * by the test (the SsoApi port is the network boundary): when a token is refreshed and when it is
 * used as it is, what a failed refresh keeps, how long the keychain keeps a login, which
 * registration is reused, which base credentials are reused. The keychain item is read directly.
 */

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

class HeldApi implements SsoApi {
  readonly refreshes: Array<{ refreshToken: string; answer: Deferred<TokenGrant> }> = [];
  readonly roleAsks: Array<{ token: string; answer: Deferred<AwsCredentials> }> = [];
  readonly registered: Array<"pkce" | "device" | undefined> = [];
  readonly loggedOut: string[] = [];

  registerClient(_region: string, _scopes: string[], flow?: "pkce" | "device"): Promise<Registration> {
    this.registered.push(flow);
    return Promise.resolve({ clientId: `client-${this.registered.length}`, clientSecret: "cs", expiresAt: 0, flow: flow ?? "pkce" });
  }
  authorizationEndpoint(): string {
    return "https://oidc.example/authorize";
  }
  createTokenFromCode(): Promise<TokenGrant> {
    return Promise.reject(new Error("not in these tests"));
  }
  startDeviceAuthorization(): Promise<never> {
    return Promise.reject(new Error("not in these tests"));
  }
  createTokenFromDeviceCode(): Promise<TokenGrant> {
    return Promise.reject(new Error("not in these tests"));
  }
  refreshToken(_region: string, _reg: Registration, refreshToken: string): Promise<TokenGrant> {
    const answer = deferred<TokenGrant>();
    this.refreshes.push({ refreshToken, answer });
    return answer.promise;
  }
  getRoleCredentials(_region: string, token: string): Promise<AwsCredentials> {
    const answer = deferred<AwsCredentials>();
    this.roleAsks.push({ token, answer });
    return answer.promise;
  }
  logout(_region: string, accessToken: string): Promise<void> {
    this.loggedOut.push(accessToken);
    return Promise.resolve();
  }
  listAccounts(): Promise<never[]> {
    return Promise.resolve([]);
  }
}



const CORP: SsoConfig = { name: "corp", startUrl: "https://corp.awsapps.com/start", region: "eu-west-1", scopes: ["sso:account:access"], autoLogin: false };

async function keeper(token: Partial<TokenGrant> | null, registrationLeftMs = 90 * 24 * HOUR, flow: "pkce" | "device" = "pkce") {
  const clock = new ManualClock();
  const api = new HeldApi();
  const store = new MemoryStore();
  const vault = await Secrets.open(store);
  let ssoConfig: Record<string, SsoConfig> = { corp: CORP };
  const tokens = new TokenKeeper({ api, vault, clock, sso: () => ssoConfig });
  const registration: Registration = { clientId: "client-0", clientSecret: "cs", expiresAt: clock.now() + registrationLeftMs, flow };
  if (token) await tokens.loggedIn("corp", registration, { accessToken: "at-0", expiresAt: clock.now() + HOUR, ...token }, tokens.generation("corp"));
  const item = () => vault.take<StoredLogin>("sso-login", "corp", clock.now());
  return {
    clock,
    api,
    vault,
    tokens,
    registration,
    item,
    reconfigure: (c: Record<string, SsoConfig>) => (ssoConfig = c),
  };
}

describe("TokenKeeper.state", () => {
  it("logged in while the access token lives; with a refresh token, until the registration ends", async () => {
    const plain = await keeper({ expiresAt: new ManualClock().now() + HOUR });
    expect(plain.tokens.state("corp")).toEqual({ loggedIn: true, expiresAt: new Date(plain.clock.now() + HOUR).toISOString() });
    plain.clock.set(plain.clock.now() + HOUR - 1);
    expect(plain.tokens.state("corp").loggedIn).toBe(true);
    plain.clock.set(plain.clock.now() + 1);
    expect(plain.tokens.state("corp")).toEqual({ loggedIn: false, expiresAt: null });

    const refreshable = await keeper({ refreshToken: "rt-0" }, 10 * HOUR);
    refreshable.clock.set(refreshable.clock.now() + 2 * HOUR);
    expect(refreshable.tokens.state("corp")).toEqual({ loggedIn: true, expiresAt: new Date(refreshable.registration.expiresAt).toISOString() });
    refreshable.clock.set(refreshable.registration.expiresAt);
    expect(refreshable.tokens.state("corp")).toEqual({ loggedIn: false, expiresAt: null });
  });

  it("a registration without a token is not logged in; nothing stored is not logged in", async () => {
    const none = await keeper(null);
    expect(none.tokens.state("corp")).toEqual({ loggedIn: false, expiresAt: null });
    const signedOut = await keeper({});
    await signedOut.tokens.signedOut("corp", signedOut.item(), 0);
    expect(signedOut.item()).toEqual({ startUrl: CORP.startUrl, region: CORP.region, registration: signedOut.registration });
    expect(signedOut.tokens.state("corp")).toEqual({ loggedIn: false, expiresAt: null });
  });

  it("signed out (registration only): no access token, LoginRequired; signing out what is not stored stores nothing", async () => {
    const k = await keeper({ refreshToken: "rt-0" });
    await k.tokens.signedOut("corp", k.item(), 0);
    await expect(k.tokens.accessToken("corp")).rejects.toBeInstanceOf(LoginRequiredError);
    const none = await keeper(null);
    await none.tokens.signedOut("corp", null, 0);
    expect(none.item()).toBeNull();
  });

  it("names every known instance when asked for one that is not configured", async () => {
    const k = await keeper(null);
    k.reconfigure({ a: { ...CORP, name: "a" }, b: { ...CORP, name: "b" } });
    expect(() => k.tokens.config("corp")).toThrow("no [sso.corp] in the config (known: a, b)");
  });

  it("a login stored for another start URL or region is not this instance's", async () => {
    const k = await keeper({});
    expect(k.tokens.stored("corp")).not.toBeNull();
    k.reconfigure({ corp: { ...CORP, startUrl: "https://other.awsapps.com/start" } });
    expect(k.tokens.stored("corp")).toBeNull();
    k.reconfigure({ corp: { ...CORP, region: "us-east-1" } });
    expect(k.tokens.stored("corp")).toBeNull();
    k.reconfigure({});
    expect(() => k.tokens.stored("corp")).toThrow(new UsageError("no [sso.corp] in the config (known: none)"));
  });
});

describe("TokenKeeper.accessToken", () => {
  it("used as it is with more than 5 minutes left; refreshed at exactly 5 minutes", async () => {
    const k = await keeper({ refreshToken: "rt-0" });
    k.clock.set(k.clock.now() + HOUR - 5 * MINUTE - 1);
    expect(await k.tokens.accessToken("corp")).toBe("at-0");
    expect(k.api.refreshes).toHaveLength(0);
    k.clock.advance(1);
    const t = track(k.tokens.accessToken("corp"));
    expect(await t()).toBe("pending");
    expect(k.api.refreshes.map((r) => r.refreshToken)).toEqual(["rt-0"]);
  });

  it("without a refresh token: used to its last millisecond, then LoginRequired", async () => {
    const k = await keeper({});
    k.clock.set(k.clock.now() + HOUR - 1);
    expect(await k.tokens.accessToken("corp")).toBe("at-0");
    k.clock.advance(1);
    await expect(k.tokens.accessToken("corp")).rejects.toBeInstanceOf(LoginRequiredError);
    const none = await keeper(null);
    await expect(none.tokens.accessToken("corp")).rejects.toBeInstanceOf(LoginRequiredError);
  });

  it("one refresh however many ask; the next expiry refreshes again; the keychain keeps the new token until the registration ends", async () => {
    const k = await keeper({ refreshToken: "rt-0" }, 10 * HOUR);
    k.clock.advance(HOUR);
    const asks = Array.from({ length: 5 }, () => track(k.tokens.accessToken("corp")));
    await settle();
    expect(k.api.refreshes).toHaveLength(1);
    k.api.refreshes[0]!.answer.resolve({ accessToken: "at-1", expiresAt: k.clock.now() + HOUR, refreshToken: "rt-1" });
    for (const a of asks) expect(await a()).toBe("at-1");
    expect(k.item()?.token).toEqual({ accessToken: "at-1", expiresAt: k.clock.now() + HOUR, refreshToken: "rt-1" });
    k.clock.advance(HOUR);
    const again = track(k.tokens.accessToken("corp"));
    await settle();
    expect(k.api.refreshes.map((r) => r.refreshToken)).toEqual(["rt-0", "rt-1"]);
    k.api.refreshes[1]!.answer.resolve({ accessToken: "at-2", expiresAt: k.clock.now() + HOUR });
    expect(await again()).toBe("at-2");
    // No new refresh token: the old one is kept.
    expect(k.item()?.token?.refreshToken).toBe("rt-1");
    // Kept in the keychain past the access token's end, to the registration's.
    k.clock.set(k.registration.expiresAt - 1);
    expect(k.item()).not.toBeNull();
    k.clock.set(k.registration.expiresAt);
    expect(k.item()).toBeNull();
  });

  it("a login without a refresh token is kept in the keychain only as long as its access token", async () => {
    const k = await keeper({});
    k.clock.set(k.clock.now() + HOUR - 1);
    expect(k.item()).not.toBeNull();
    k.clock.advance(1);
    expect(k.item()).toBeNull();
  });

  it("a refresh that fails on the network while the old token lives returns the old token; once it is dead, the error", async () => {
    const k = await keeper({ refreshToken: "rt-0" });
    k.clock.advance(HOUR - MINUTE);
    const early = track(k.tokens.accessToken("corp"));
    await settle();
    k.api.refreshes[0]!.answer.reject(new Error("ECONNRESET"));
    expect(await early()).toBe("at-0");
    k.clock.advance(MINUTE);
    const late = track(k.tokens.accessToken("corp"));
    await settle();
    k.api.refreshes[1]!.answer.reject(new Error("ECONNRESET"));
    expect(((await late()) as Error).message).toBe("ECONNRESET");
  });

  it("a refresh IAM Identity Center refuses drops the token, keeps the registration: LoginRequired", async () => {
    const k = await keeper({ refreshToken: "rt-0" });
    k.clock.advance(HOUR - MINUTE);
    const t = track(k.tokens.accessToken("corp"));
    await settle();
    k.api.refreshes[0]!.answer.reject(new TokenPollFailure("InvalidGrant"));
    expect(await t()).toBeInstanceOf(LoginRequiredError);
    expect(k.item()).toEqual({ startUrl: CORP.startUrl, region: CORP.region, registration: k.registration });
  });

  it("a logout while the refresh is answered: nothing is kept, the renewed token is ended at IAM Identity Center", async () => {
    const k = await keeper({ refreshToken: "rt-0" });
    k.clock.advance(HOUR);
    const t = track(k.tokens.accessToken("corp"));
    await settle();
    const forgotten = await k.tokens.forget("corp");
    expect(forgotten?.token?.accessToken).toBe("at-0");
    expect(k.tokens.generation("corp")).toBe(1);
    k.api.refreshes[0]!.answer.resolve({ accessToken: "at-renewed", expiresAt: k.clock.now() + HOUR, refreshToken: "rt-1" });
    expect(await t()).toBeInstanceOf(LoginRequiredError);
    expect(k.api.loggedOut).toEqual(["at-renewed"]);
    expect(k.item()).toBeNull();
  });

  it("a refresh that fails on the network after a logout: LoginRequired, never the forgotten token", async () => {
    const k = await keeper({ refreshToken: "rt-0" });
    k.clock.advance(HOUR - MINUTE);
    const t = track(k.tokens.accessToken("corp"));
    await settle();
    await k.tokens.forget("corp");
    k.api.refreshes[0]!.answer.reject(new Error("ECONNRESET"));
    expect(await t()).toBeInstanceOf(LoginRequiredError);
  });

  it("a refresh of a login that was logged out and logged in again does not clear the new login's refresh", async () => {
    const k = await keeper({ refreshToken: "rt-0" });
    k.clock.advance(HOUR);
    const old = track(k.tokens.accessToken("corp"));
    await settle();
    await k.tokens.forget("corp");
    await k.tokens.loggedIn("corp", k.registration, { accessToken: "at-new", expiresAt: k.clock.now() - 1, refreshToken: "rt-new" }, k.tokens.generation("corp"));
    const first = track(k.tokens.accessToken("corp"));
    await settle();
    expect(k.api.refreshes.map((r) => r.refreshToken)).toEqual(["rt-0", "rt-new"]);
    k.api.refreshes[0]!.answer.resolve({ accessToken: "at-stale", expiresAt: k.clock.now() + HOUR });
    expect(await old()).toBeInstanceOf(LoginRequiredError);
    // The new login's refresh is still the one under way: a caller now joins it.
    const second = track(k.tokens.accessToken("corp"));
    await settle();
    expect(k.api.refreshes).toHaveLength(2);
    k.api.refreshes[1]!.answer.resolve({ accessToken: "at-fresh", expiresAt: k.clock.now() + HOUR });
    expect(await first()).toBe("at-fresh");
    expect(await second()).toBe("at-fresh");
  });

  it("a logout during the keychain write takes the refreshed login back out", async () => {
    const k = await keeper({ refreshToken: "rt-0" });
    k.clock.advance(HOUR);
    const t = track(k.tokens.accessToken("corp"));
    await settle();
    const put = k.vault.put.bind(k.vault);
    const gate = deferred<void>();
    k.vault.put = async (...args: Parameters<typeof put>) => {
      await gate.promise;
      return put(...args);
    };
    k.api.refreshes[0]!.answer.resolve({ accessToken: "at-1", expiresAt: k.clock.now() + HOUR, refreshToken: "rt-1" });
    await settle();
    const forgetting = k.tokens.forget("corp");
    gate.resolve();
    await forgetting;
    expect(await t()).toBeInstanceOf(LoginRequiredError);
    expect(k.item()).toBeNull();
  });
});

describe("TokenKeeper.registration", () => {
  it("reuses the stored registration of the same flow while it has more than an hour left", async () => {
    const k = await keeper({}, HOUR + 1, "device");
    expect(await k.tokens.registration("corp", "device")).toEqual(k.registration);
    expect(k.api.registered).toEqual([]);
    expect((await k.tokens.registration("corp", "pkce")).clientId).toBe("client-1");
    expect(k.api.registered).toEqual(["pkce"]);
    k.clock.advance(1);
    expect((await k.tokens.registration("corp", "device")).clientId).toBe("client-2");
    expect(k.api.registered).toEqual(["pkce", "device"]);
  });

  it("a registration stored for another start URL or region is not reused", async () => {
    const k = await keeper({}, 10 * HOUR);
    k.reconfigure({ corp: { ...CORP, startUrl: "https://other.awsapps.com/start" } });
    await k.tokens.registration("corp", "pkce");
    k.reconfigure({ corp: { ...CORP, region: "us-east-1" } });
    await k.tokens.registration("corp", "pkce");
    expect(k.api.registered).toEqual(["pkce", "pkce"]);
  });
});

describe("RoleCredentials", () => {
  async function roles() {
    const k = await keeper({}, 10 * HOUR);
    const rc = new RoleCredentials({ api: k.api, clock: k.clock, tokens: k.tokens });
    const creds = (n: number, lifeMs: number): AwsCredentials => ({ accessKeyId: `ASIAROLE${n}`, secretAccessKey: "s", sessionToken: "t", expiration: k.clock.now() + lifeMs });
    /** Asks, and answers the portal call it makes (if any) with `answer`. */
    const get = async (minLifeMs: number, answer?: AwsCredentials | Error, account = "123456789012") => {
      const before = k.api.roleAsks.length;
      const r = track(rc.get("corp", account, "S3JitBase", minLifeMs));
      await settle();
      const asked = k.api.roleAsks.length > before;
      if (asked && answer !== undefined) {
        if (answer instanceof Error) k.api.roleAsks.at(-1)!.answer.reject(answer);
        else k.api.roleAsks.at(-1)!.answer.resolve(answer);
      }
      return { asked, out: await r() };
    };
    return { k, rc, creds, get };
  }

  it("reused while they have more than 5 minutes (or the life asked for) left; fetched again at the edge", async () => {
    const { k, creds, get } = await roles();
    expect((await get(0, creds(1, 30 * MINUTE))).asked).toBe(true);
    k.clock.advance(25 * MINUTE - 1);
    expect(await get(0)).toEqual({ asked: false, out: expect.objectContaining({ accessKeyId: "ASIAROLE1" }) as unknown });
    k.clock.advance(1);
    expect((await get(0, creds(2, HOUR))).asked).toBe(true);
    expect((await get(HOUR - 1)).asked).toBe(false);
    expect((await get(HOUR, creds(3, 2 * HOUR))).asked).toBe(true);
  });

  it("the portal failing: the cached credentials while they have more than 5 minutes; else the error", async () => {
    const { k, creds, get } = await roles();
    await get(0, creds(1, 30 * MINUTE));
    const kept = await get(40 * MINUTE, new Error("portal down"));
    expect(kept).toEqual({ asked: true, out: expect.objectContaining({ accessKeyId: "ASIAROLE1" }) as unknown });
    k.clock.advance(25 * MINUTE);
    const failed = await get(0, new Error("portal down"));
    expect((failed.out as Error).message).toBe("portal down");
  });

  it("the portal failing after a logout: LoginRequired, never the cached credentials of the forgotten login", async () => {
    const { k, rc, creds, get } = await roles();
    await get(0, creds(1, 30 * MINUTE));
    const r = track(rc.get("corp", "123456789012", "S3JitBase", 40 * MINUTE));
    await settle();
    await k.tokens.forget("corp");
    k.api.roleAsks.at(-1)!.answer.reject(new Error("portal down"));
    expect(await r()).toBeInstanceOf(LoginRequiredError);
  });

  it("the portal refusing the token: the login's token is dropped, LoginRequired", async () => {
    const { k, get } = await roles();
    const out = await get(0, new TokenPollFailure("InvalidGrant"));
    expect(out.out).toBeInstanceOf(LoginRequiredError);
    expect(k.item()).toEqual({ startUrl: CORP.startUrl, region: CORP.region, registration: k.registration });
  });

  it("clear() forgets one instance's credentials, not those of an instance whose name starts the same", async () => {
    const { k, rc, creds } = await roles();
    const other = new TokenKeeper({ api: k.api, vault: k.vault, clock: k.clock, sso: () => ({ corp: CORP, corp2: { ...CORP, name: "corp2" } }) });
    await other.loggedIn("corp2", k.registration, { accessToken: "at-c2", expiresAt: k.clock.now() + HOUR }, 0);
    const both = new RoleCredentials({ api: k.api, clock: k.clock, tokens: other });
    for (const [i, name] of ["corp", "corp2"].entries()) {
      const r = both.get(name, "123456789012", "S3JitBase");
      await settle();
      k.api.roleAsks.at(-1)!.answer.resolve(creds(10 + i, HOUR));
      await r;
    }
    both.clear("corp");
    const asked = k.api.roleAsks.length;
    const r1 = both.get("corp2", "123456789012", "S3JitBase");
    expect((await r1).accessKeyId).toBe("ASIAROLE11");
    expect(k.api.roleAsks).toHaveLength(asked);
    void both.get("corp", "123456789012", "S3JitBase");
    await settle();
    expect(k.api.roleAsks).toHaveLength(asked + 1);
    void rc;
  });
});
