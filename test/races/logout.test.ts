import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { EnvInfo } from "../../src/control/contract.js";
import { OTHER_PROFILE_TOML } from "../helpers/config.js";
import { waitFor } from "../lifecycle/control.js";
import { blockFile, login, startLoggedIn, type InProcess } from "./in-process.js";

/** Issue 13: logout rotates the endpoint tokens with no grace. */
describe("logout and the endpoint tokens", () => {
  let ip: InProcess;
  beforeAll(async () => {
    ip = await startLoggedIn(OTHER_PROFILE_TOML);
  });
  afterAll(async () => {
    await ip?.close();
  });

  it.each(["GetScopedCredentials", "GetRoleCredentials"])("logout while AWS holds %s wins: what comes back after the logout is never served", async (action) => {
    // AWS holds its answer while the logout runs (a slow network), not a sleep in the daemon.
    ip.sandbox.inject({ action, delayMs: 1500 });
    await ip.client.post("/v1/grant", { profile: "other", for: "30m", reason: "slow mint" });
    const held = await waitFor("the mint to reach AWS", () => ip.sandbox.requests.find((r) => r.action === action && r.status === 0));
    await ip.client.post("/v1/logout", {});
    await waitFor("STS to answer", () => held.status !== 0);
    const env = await ip.client.get<EnvInfo>("/v1/env/other");
    const res = await fetch(env.url, { headers: { authorization: env.token } });
    expect(res.status).toBe(403);
    expect(((await res.json()) as { code: string }).code).toBe("LoginRequired");
    expect((await ip.status()).profiles.other!.session).toBeNull();
    await ip.client.post("/v1/revoke", { profile: "other" });
    await login(ip);
  });

  it("logout shuts every old endpoint token out at once (no grace): 401, and the new `s3jit env` token works", async () => {
    await ip.client.post("/v1/grant", { profile: "other", for: "30m", reason: "tokens" });
    const before = await ip.client.get<EnvInfo>("/v1/env/other");
    await ip.client.post("/v1/logout", {});
    const old = await fetch(before.url, { headers: { authorization: before.token } });
    expect(old.status).toBe(401);
    const after = await ip.client.get<EnvInfo>("/v1/env/other");
    expect(after.token).not.toBe(before.token);
    // Logged out: the new token is accepted, and the answer is the login's, not the token's.
    const fresh = await fetch(after.url, { headers: { authorization: after.token } });
    expect(fresh.status).not.toBe(401);
  });

  it("a logout whose new token file cannot be written still shuts the old token out, leaves its logout line, and names the file", async () => {
    await login(ip);
    const before = await ip.client.get<EnvInfo>("/v1/env/other");
    const logouts = (await ip.audit()).filter((l) => l.event === "logout").length;
    const unblock = blockFile(before.tokenFile);
    let err: unknown;
    try {
      err = await ip.client.post("/v1/logout", {}).catch((e: unknown) => e);
    } finally {
      unblock();
    }
    expect(err).toMatchObject({ code: "StateWriteFailed" });
    expect((err as Error).message).toContain(before.tokenFile);
    expect((await fetch(before.url, { headers: { authorization: before.token } })).status).toBe(401);
    expect((await ip.audit()).filter((l) => l.event === "logout")).toHaveLength(logouts + 1);
    // `s3jit env` hands out the new token, which works.
    const after = await ip.client.get<EnvInfo>("/v1/env/other");
    expect(after.token).not.toBe(before.token);
    expect((await fetch(after.url, { headers: { authorization: after.token } })).status).not.toBe(401);
  });
});
