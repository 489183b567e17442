import { afterEach, describe, expect, it } from "vitest";
import { LoginRequiredError } from "../../src/errors.js";
import { ssoWorld } from "./sandbox-login.js";

/**
 * State changes win over work in flight (issue 13): a refresh, GetRoleCredentials or login that
 * was under way when the user logged out stores nothing and returns nothing. The sandbox holds
 * the AWS answer; the test logs out while it is held.
 */
describe("SSO: logout wins over work in flight", () => {
  const world = ssoWorld();
  afterEach(() => world.close());

  it("logout during a token refresh (access token expired): the refresh stores nothing and the login stays gone", async () => {
    const logins = await world.loggedIn({ accessTokenTtlSeconds: 600 });
    world.clock.advance(11 * 60_000);
    world.sandbox.inject({ action: "CreateToken", delayMs: 1000 });
    const refreshing = logins.accessToken("corp");
    await world.arrived("CreateToken", 2);
    await logins.logout("corp");
    await expect(refreshing).rejects.toBeInstanceOf(LoginRequiredError);
    expect(logins.state("corp").loggedIn).toBe(false);
    expect(world.vault.items.size).toBe(0);
    await expect(logins.accessToken("corp")).rejects.toBeInstanceOf(LoginRequiredError);
    // The login the late answer renewed is ended at IAM Identity Center too.
    expect(world.sandbox.count("Logout")).toBe(1);
  });

  it("logout during GetRoleCredentials: the base credentials are neither returned nor kept for later mints", async () => {
    const logins = await world.loggedIn();
    // The portal answers GetRoleCredentials while the logout's own call is still on its way.
    world.sandbox.inject({ action: "GetRoleCredentials", delayMs: 300 });
    world.sandbox.inject({ action: "Logout", delayMs: 1500 });
    const fetching = logins.roleCredentials("corp", "123456789012", "S3JitBase");
    await world.arrived("GetRoleCredentials");
    const logout = logins.logout("corp");
    await expect(fetching).rejects.toBeInstanceOf(LoginRequiredError);
    await logout;
    await expect(logins.roleCredentials("corp", "123456789012", "S3JitBase")).rejects.toBeInstanceOf(LoginRequiredError);
    expect(world.sandbox.count("GetRoleCredentials")).toBe(1);
  });

  it("logout while a login waits for approval: the approval that comes later stores nothing; a new login starts afresh", async () => {
    const logins = await world.setup();
    const first = await logins.startLogin("corp");
    const waiting = logins.waitLogin("corp");
    await logins.logout("corp");
    expect(logins.state("corp").loginPending).toBe(false);
    world.sandbox.approve(first.userCode!);
    await expect(waiting).rejects.toThrow(/s3jit login/);
    expect(logins.state("corp").loggedIn).toBe(false);
    const second = await logins.startLogin("corp");
    expect(second.userCode).not.toBe(first.userCode);
  });

  it("every logout moves the instance's generation on (the broker compares it around a mint)", async () => {
    const logins = await world.loggedIn();
    const before = logins.generation("corp");
    await logins.logout("corp");
    expect(logins.generation("corp")).toBe(before + 1);
  });
});
