import { afterEach, describe, expect, it } from "vitest";
import { UpstreamError } from "../../src/errors.js";
import { AwsSsoApi, configuredOidcEndpoint, PKCE_REDIRECT, TokenPollFailure } from "../../src/sso/api.js";
import type { StoredLogin } from "../../src/sso/tokens.js";
import { sandboxLogins, ssoWorld } from "../sso/sandbox-login.js";

/**
 * The IAM Identity Center calls over the real SDK, against the sandbox: what each call sends, what
 * its answer becomes (lifetimes on the test's clock), and how each refusal is told apart.
 */

const REGION = "eu-west-1";
const START_URL = "https://corp.awsapps.com/start";

describe("AwsSsoApi against the sandbox", () => {
  const world = ssoWorld();
  afterEach(() => world.close());

  async function loggedInToken(): Promise<{ api: AwsSsoApi; token: string }> {
    await world.loggedIn();
    const stored = world.vault.items.get("sso-login/corp")!.value as StoredLogin;
    return { api: new AwsSsoApi(() => world.clock.now()), token: stored.token!.accessToken };
  }

  it("registers a PKCE client with the code and refresh grants and the loopback redirect; a device client without them", async () => {
    await world.setup();
    const api = new AwsSsoApi(() => world.clock.now());
    const pkce = await api.registerClient(REGION, ["sso:account:access"], "pkce");
    const device = await api.registerClient(REGION, ["sso:account:access"]);
    const [p, d] = world.sandbox.requests.filter((r) => r.action === "RegisterClient");
    expect(p!.params).toMatchObject({ clientName: "s3jit", clientType: "public", scopes: ["sso:account:access"], grantTypes: ["authorization_code", "refresh_token"], redirectUris: [PKCE_REDIRECT] });
    expect(d!.params).toMatchObject({ clientName: "s3jit", clientType: "public", scopes: ["sso:account:access"] });
    expect(d!.params).not.toHaveProperty("grantTypes");
    expect(d!.params).not.toHaveProperty("redirectUris");
    expect(pkce.flow).toBe("pkce");
    expect(pkce.authorizationEndpoint).toBe(`${world.sandbox.url}/authorize`);
    expect(device.flow).toBe("device");
    expect(device).not.toHaveProperty("authorizationEndpoint");
    // clientSecretExpiresAt is in seconds; the registration keeps milliseconds.
    expect(pkce.expiresAt % 1000).toBe(0);
    expect(pkce.expiresAt).toBeGreaterThan(world.clock.now() + 24 * 3600_000);
  });

  it("a device authorization's expiry and poll interval come from the answer, on the test's clock", async () => {
    await world.setup();
    const api = new AwsSsoApi(() => world.clock.now());
    const reg = await api.registerClient(REGION, ["sso:account:access"], "device");
    const auth = await api.startDeviceAuthorization(REGION, reg, START_URL);
    expect(auth.expiresAt).toBe(world.clock.now() + 600_000);
    expect(auth.intervalSeconds).toBe(1);
    expect(auth.verificationUriComplete).toBe(`${auth.verificationUri}?user_code=${auth.userCode}`);
    expect(world.sandbox.requests.at(-1)!.params).toMatchObject({ clientId: reg.clientId, startUrl: START_URL });
  });

  it.each([
    ["AuthorizationPendingException", "AuthorizationPending"],
    ["SlowDownException", "SlowDown"],
    ["ExpiredTokenException", "ExpiredToken"],
    ["AccessDeniedException", "AccessDenied"],
    ["InvalidGrantException", "InvalidGrant"],
  ])("CreateToken answering %s is the poll failure %s", async (code, reason) => {
    await world.setup();
    const api = new AwsSsoApi(() => world.clock.now());
    const reg = await api.registerClient(REGION, ["sso:account:access"], "device");
    world.sandbox.inject({ action: "CreateToken", status: 400, code });
    const err = await api.createTokenFromDeviceCode(REGION, reg, "device-code").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TokenPollFailure);
    expect((err as TokenPollFailure).reason).toBe(reason);
    expect((err as TokenPollFailure).message).toBe(`IAM Identity Center answered ${reason}`);
  });

  it("an endpoint override loses every trailing slash", () => {
    expect(configuredOidcEndpoint({ AWS_ENDPOINT_URL_SSO_OIDC: "http://127.0.0.1:4566///" })).toBe("http://127.0.0.1:4566");
  });

  it("CreateToken failing otherwise is an UpstreamError naming the error and status", async () => {
    await world.setup();
    const api = new AwsSsoApi(() => world.clock.now());
    const reg = await api.registerClient(REGION, ["sso:account:access"], "device");
    world.sandbox.inject({ action: "CreateToken", status: 400, code: "InvalidClientException", times: 1 });
    const err = await api.refreshToken(REGION, reg, "rt").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UpstreamError);
    expect((err as Error).message).toBe("AWS call failed: InvalidClientException (HTTP 400)");
  });

  it("a refreshed token's expiry is the answer's expiresIn on the test's clock; a refresh token only when one came", async () => {
    await world.loggedIn({ accessTokenTtlSeconds: 900, rotateRefreshTokens: false });
    const stored = world.vault.items.get("sso-login/corp")!.value as StoredLogin;
    const api = new AwsSsoApi(() => world.clock.now());
    const grant = await api.refreshToken(REGION, stored.registration, stored.token!.refreshToken!);
    expect(grant.expiresAt).toBe(world.clock.now() + 900_000);
    expect(grant).not.toHaveProperty("refreshToken");
    expect(world.sandbox.requests.at(-1)!.params).toMatchObject({ grantType: "refresh_token", refreshToken: stored.token!.refreshToken });
  });

  it("role credentials carry the portal's millisecond expiry; an unauthorized token is the poll failure ExpiredToken", async () => {
    const { api, token } = await loggedInToken();
    const creds = await api.getRoleCredentials(REGION, token, "123456789012", "S3JitBase");
    expect(creds.expiration).toBe(world.clock.now() + 3600_000);
    expect(Object.keys(creds).sort()).toEqual(["accessKeyId", "expiration", "secretAccessKey", "sessionToken"]);
    const err = await api.getRoleCredentials(REGION, "not-a-token", "123456789012", "S3JitBase").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TokenPollFailure);
    expect((err as TokenPollFailure).reason).toBe("ExpiredToken");
    const forbidden = await api.getRoleCredentials(REGION, token, "123456789012", "NoSuchRole").catch((e: unknown) => e);
    expect((forbidden as Error).message).toBe("AWS call failed: ForbiddenException (HTTP 403)");
  });

  it("lists every account with its roles; logout ends the token at the portal", async () => {
    await world.setup({ autoApprove: true, accounts: { "123456789012": { roles: ["S3JitBase", "Other"] }, "210987654321": { roles: ["S3JitBase"] } } });
    const logins = sandboxLogins(world.clock, undefined, world.vault);
    await logins.startLogin("corp");
    await logins.waitLogin("corp");
    const token = (world.vault.items.get("sso-login/corp")!.value as StoredLogin).token!.accessToken;
    const api = new AwsSsoApi(() => world.clock.now());
    expect(await api.listAccounts(REGION, token)).toEqual([
      { accountId: "123456789012", accountName: "sandbox-123456789012", roles: ["S3JitBase", "Other"] },
      { accountId: "210987654321", accountName: "sandbox-210987654321", roles: ["S3JitBase"] },
    ]);
    await api.logout(REGION, token);
    expect(world.sandbox.requests.at(-1)!.action).toBe("Logout");
    const after = await api.getRoleCredentials(REGION, token, "123456789012", "S3JitBase").catch((e: unknown) => e);
    expect(after).toBeInstanceOf(TokenPollFailure);
  });
});
