import { afterEach, describe, expect, it } from "vitest";
import { ssoWorld } from "./sandbox-login.js";

describe("SSO refresh with an issuer that does not rotate refresh tokens", () => {
  const world = ssoWorld();
  afterEach(() => world.close());

  it("the old refresh token is kept when the answer carries no new one, and keeps working", async () => {
    const logins = await world.loggedIn({ accessTokenTtlSeconds: 600, rotateRefreshTokens: false });
    for (let i = 0; i < 2; i++) {
      world.clock.advance(11 * 60_000);
      await logins.accessToken("corp");
    }
    const refreshes = world.sandbox.requests.filter((r) => r.action === "CreateToken" && r.params.grantType === "refresh_token");
    expect(refreshes.map((r) => r.status)).toEqual([200, 200]);
    expect(refreshes[1]!.params.refreshToken).toBe(refreshes[0]!.params.refreshToken);
  });
});
