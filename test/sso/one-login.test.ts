import { afterEach, describe, expect, it } from "vitest";
import { ssoWorld } from "./sandbox-login.js";

/**
 * "Only one login may run at a time" holds for callers that arrive at the same moment, not only
 * for one that arrives after the first got its prompt: many SDK calls hitting an expired login
 * must not register many clients or show many codes (issue 13).
 */
describe("SSO: one login at a time, for simultaneous callers too", () => {
  const world = ssoWorld();
  afterEach(() => world.close());

  it("two logins asked for at the same moment start one flow: one client registered, one user code", async () => {
    const logins = await world.setup();
    const [a, b] = await Promise.all([logins.startLogin("corp"), logins.startLogin("corp")]);
    expect(b.userCode).toBe(a.userCode);
    expect(world.sandbox.count("RegisterClient")).toBe(1);
    expect(world.sandbox.count("StartDeviceAuthorization")).toBe(1);
  });

  it("a login is pending from the moment it is asked for, before IAM Identity Center answered", async () => {
    const logins = await world.setup();
    world.sandbox.inject({ action: "RegisterClient", delayMs: 300 });
    const started = logins.startLogin("corp");
    // What the daemon's auto-login guard asks: a second caller must see this login and join it.
    expect(logins.state("corp").loginPending).toBe(true);
    await started;
  });

  it("a login that fails to start is not left pending, and each caller that joined it gets the failure", async () => {
    const logins = await world.setup();
    world.sandbox.inject({ action: "RegisterClient", status: 400, code: "InvalidRequestException", times: 4 });
    const results = await Promise.allSettled([logins.startLogin("corp"), logins.startLogin("corp")]);
    expect(results.map((r) => r.status)).toEqual(["rejected", "rejected"]);
    expect(world.sandbox.count("RegisterClient")).toBe(1);
    expect(logins.state("corp").loginPending).toBe(false);
  });
});
