import { afterEach, describe, expect, it } from "vitest";
import { LoginRequiredError } from "../../src/errors.js";
import { AwsSsoApi } from "../../src/sso/api.js";
import { SsoLogins } from "../../src/sso/logins.js";
import type { StoredLogin } from "../../src/sso/tokens.js";
import { CORP, ssoWorld } from "../sso/sandbox-login.js";

/**
 * SsoLogins around its flows, against the sandbox over the real SDK: what each login reports
 * (onLogin), that a new login starts from new base credentials, when logout ends the token at
 * the portal too, and the accounts a login may use.
 */

describe("SsoLogins", () => {
  const world = ssoWorld();
  afterEach(() => world.close());

  async function logins(opts: Parameters<typeof world.setup>[0] = {}, listen?: ConstructorParameters<typeof SsoLogins>[0]["listen"]) {
    await world.setup({ autoApprove: true, ...opts });
    const reports: Array<[string, boolean, string | undefined]> = [];
    const waiting: Array<() => void> = [];
    /** Resolves at the next onLogin report (an event, no time bound). */
    const nextReport = () => new Promise<void>((resolve) => waiting.push(resolve));
    const l = new SsoLogins({
      api: new AwsSsoApi(() => world.clock.now()),
      vault: world.vault,
      clock: world.clock,
      sso: () => ({ corp: CORP }),
      sleep: async (ms) => world.clock.advance(ms),
      onLogin: (sso, ok, detail) => {
        reports.push([sso, ok, detail]);
        for (const w of waiting.splice(0)) w();
      },
      ...(listen ? { listen } : {}),
    });
    return { l, reports, nextReport };
  }

  it("reports a login that succeeded, and one that was denied with its code", async () => {
    const { l, reports } = await logins();
    const prompt = await l.startLogin("corp");
    expect(prompt.flow).toBe("device");
    expect(await l.waitLogin("corp")).toMatchObject({ loggedIn: true, loginPending: false });
    expect(reports).toEqual([["corp", true, undefined]]);
    // startLogin's default is the device flow, and its registration says so.
    expect((world.vault.items.get("sso-login/corp")!.value as StoredLogin).registration.flow).toBe("device");
    world.sandbox.inject({ action: "CreateToken", status: 400, code: "AccessDeniedException" });
    await l.startLogin("corp");
    await expect(l.waitLogin("corp")).rejects.toMatchObject({ code: "LoginDenied", message: "the login was denied in the browser" });
    expect(reports).toEqual([
      ["corp", true, undefined],
      ["corp", false, "LoginDenied"],
    ]);
    // The earlier login is still stored: a denied new one does not end it.
    expect(l.state("corp")).toMatchObject({ loggedIn: true, loginPending: false });
  });

  it("a failure that is not s3jit's own (the browser's listener cannot start) is reported as 'Error'", async () => {
    const { l, reports } = await logins({}, () => Promise.reject(new Error("EADDRINUSE")));
    await expect(l.startLogin("corp", "pkce")).rejects.toThrow("EADDRINUSE");
    await expect(l.waitLogin("corp")).rejects.toBeInstanceOf(LoginRequiredError);
    expect(reports).toEqual([["corp", false, "Error"]]);
    expect(l.state("corp").loginPending).toBe(false);
  });

  it("a code IAM Identity Center says expired ends the login with what to do", async () => {
    const { l, reports } = await logins();
    world.sandbox.inject({ action: "CreateToken", status: 400, code: "ExpiredTokenException" });
    await l.startLogin("corp");
    await expect(l.waitLogin("corp")).rejects.toMatchObject({ code: "LoginExpired", message: "the login code expired before it was approved: run `s3jit login` again" });
    expect(reports).toEqual([["corp", false, "LoginExpired"]]);
  });

  it("a logout while a login waits for approval ends that login as cancelled, at its next poll", async () => {
    const { l, reports, nextReport } = await logins({ autoApprove: false });
    // The first poll is held until the logout is done: how many polls the loop (whose sleeps are
    // instant here) makes before the logout is then the loop's rule, not the machine's speed.
    const firstPoll = world.sandbox.hold("CreateToken");
    await l.startLogin("corp");
    await firstPoll.arrived;
    const reported = nextReport();
    await l.logout("corp");
    firstPoll.release();
    await reported;
    expect(reports).toEqual([["corp", false, "LoginCancelled"]]);
    // The held poll answered "pending", and the loop looked for a logout before polling again.
    expect(world.sandbox.count("CreateToken")).toBe(1);
  });

  it("a login started after a logout stays the one under way when the cancelled one ends", async () => {
    const { l, reports, nextReport } = await logins({ autoApprove: false });
    await l.startLogin("corp");
    await world.arrived("CreateToken");
    const cancelled = nextReport();
    await l.logout("corp");
    const second = await l.startLogin("corp");
    await cancelled;
    expect(reports).toEqual([["corp", false, "LoginCancelled"]]);
    expect(l.state("corp").loginPending).toBe(true);
    // Asking again joins it: the same code, no third flow.
    expect((await l.startLogin("corp")).userCode).toBe(second.userCode);
    expect(world.sandbox.count("StartDeviceAuthorization")).toBe(2);
    world.sandbox.approve(second.userCode!);
    await l.waitLogin("corp");
    expect(reports).toEqual([
      ["corp", false, "LoginCancelled"],
      ["corp", true, undefined],
    ]);
  });

  it("a new login starts from new base credentials", async () => {
    const { l } = await logins();
    await l.startLogin("corp");
    await l.waitLogin("corp");
    const first = await l.roleCredentials("corp", "123456789012", "S3JitBase");
    expect((await l.roleCredentials("corp", "123456789012", "S3JitBase")).accessKeyId).toBe(first.accessKeyId);
    expect(world.sandbox.count("GetRoleCredentials")).toBe(1);
    await l.startLogin("corp");
    await l.waitLogin("corp");
    const second = await l.roleCredentials("corp", "123456789012", "S3JitBase");
    expect(second.accessKeyId).not.toBe(first.accessKeyId);
    expect(world.sandbox.count("GetRoleCredentials")).toBe(2);
  });

  it("logout ends a live token at the portal; an expired one is only forgotten", async () => {
    const { l } = await logins({ accessTokenTtlSeconds: 600 });
    await l.startLogin("corp");
    await l.waitLogin("corp");
    await l.logout("corp");
    expect(world.sandbox.count("Logout")).toBe(1);
    expect(world.vault.items.has("sso-login/corp")).toBe(false);

    await l.startLogin("corp");
    await l.waitLogin("corp");
    const stored = world.vault.items.get("sso-login/corp")!.value as StoredLogin;
    world.clock.set(stored.token!.expiresAt);
    await l.logout("corp");
    expect(world.sandbox.count("Logout")).toBe(1);
    expect(l.state("corp")).toEqual({ loggedIn: false, expiresAt: null, loginPending: false });
  });

  it("the accounts a login may use, from the instance's region; none without a login", async () => {
    const { l } = await logins();
    await expect(l.accounts("corp")).rejects.toBeInstanceOf(LoginRequiredError);
    await expect(l.waitLogin("corp")).rejects.toBeInstanceOf(LoginRequiredError);
    await l.startLogin("corp");
    await l.waitLogin("corp");
    expect(await l.accounts("corp")).toEqual([{ accountId: "123456789012", accountName: "sandbox-123456789012", roles: ["S3JitBase"] }]);
  });
});
