import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AUDIT, profileToml } from "../helpers/config.js";
import type { EnvInfo } from "../../src/control/contract.js";
import { waitFor } from "../lifecycle/control.js";
import { blockFile, login, startLoggedIn, type InProcess } from "./in-process.js";

/**
 * Issue 13: state changes are saved before they take effect, always with their audit line, and the
 * CLI hears which file failed; refused grants are audited like refused requests.
 */
const PROFILES =
  profileToml("audit", { ...AUDIT, require_reason: true }) +
  profileToml("other", { scope: ["other-bucket"] }) +
  // Allowed one minute a week (Sunday 00:00-00:01 UTC): outside it whenever this test runs but then.
  profileToml("night", { scope: ["reports"], hours: "Sun 00:00-00:01", timezone: "UTC" });

type Line = { event: string } & Record<string, unknown>;

describe("state changes", () => {
  let ip: InProcess;
  beforeAll(async () => {
    ip = await startLoggedIn(PROFILES);
  });
  afterAll(async () => {
    await ip?.close();
  });

  const grantLines = async (profile: string) => (await ip.audit()).filter((l: Line) => l.profile === profile && (l.event === "grant" || (l.event === "refuse" && l.action === "grant")));

  it("refused grants leave an audit line each, like refused requests: too long, no reason, outside hours", async () => {
    await expect(ip.client.post("/v1/grant", { profile: "audit", for: "3h", reason: "too long" })).rejects.toMatchObject({ code: "GrantRefused" });
    await expect(ip.client.post("/v1/grant", { profile: "audit", for: "10m" })).rejects.toMatchObject({ code: "GrantRefused" });
    await expect(ip.client.post("/v1/grant", { profile: "night", for: "10m", reason: "r" })).rejects.toMatchObject({ code: "OutsideHours" });
    const refusals = (await ip.audit()).filter((l) => l.event === "refuse" && l.action === "grant");
    expect(refusals.map((l) => [l.profile, l.code])).toEqual([
      ["audit", "GrantRefused"],
      ["audit", "GrantRefused"],
      ["night", "OutsideHours"],
    ]);
    for (const l of refusals) expect(l.detail).toEqual(expect.any(String));
  });

  it("a grant that cannot be saved opens nothing, mints nothing, names the file, and leaves its refuse line", async () => {
    const unblock = blockFile(ip.stateFile);
    try {
      const mints = ip.sandbox.count("GetScopedCredentials");
      const err = await ip.client.post("/v1/grant", { profile: "other", for: "10m", reason: "disk" }).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: "StateWriteFailed" });
      expect((err as Error).message).toContain(ip.stateFile);
      expect((await ip.status()).profiles.other!.window).toBeNull();
      expect(ip.sandbox.count("GetScopedCredentials")).toBe(mints);
      expect((await grantLines("other")).map((l) => [l.event, l.code])).toEqual([["refuse", "StateWriteFailed"]]);
    } finally {
      unblock();
    }
  });

  it("a revoke that cannot be saved still closes the window now, leaves its revoke line, names the file; the next save carries it across a restart", async () => {
    await ip.client.post("/v1/grant", { profile: "other", for: "30m", reason: "to revoke" });
    const unblock = blockFile(ip.stateFile);
    let err: unknown;
    try {
      err = await ip.client.post("/v1/revoke", { profile: "other" }).catch((e: unknown) => e);
    } finally {
      unblock();
    }
    expect(err).toMatchObject({ code: "StateWriteFailed" });
    expect((err as Error).message).toContain(ip.stateFile);
    expect((err as Error).message).toMatch(/closed/);
    expect((await ip.status()).profiles.other!.window).toBeNull();
    expect((await ip.audit()).filter((l) => l.event === "revoke" && l.profile === "other")).toHaveLength(1);
    await ip.restart();
    expect((await ip.status()).profiles.other!.window).toBeNull();
  });

  it("a revoke while STS holds a mint wins: nothing is served afterwards", async () => {
    await login(ip); // the restart above forgot it (keychain = "memory")
    ip.sandbox.inject({ action: "GetScopedCredentials", delayMs: 1500 });
    await ip.client.post("/v1/grant", { profile: "other", for: "30m", reason: "slow mint" });
    const held = await waitFor("the mint to reach STS", () => ip.sandbox.requests.find((r) => r.action === "GetScopedCredentials" && r.status === 0));
    await ip.client.post("/v1/revoke", { profile: "other" });
    await waitFor("STS to answer", () => held.status !== 0);
    const env = await ip.client.get<EnvInfo>("/v1/env/other");
    const res = await fetch(env.url, { headers: { authorization: env.token } });
    expect(res.status).toBe(403);
    expect(((await res.json()) as { code: string }).code).toBe("WindowClosed");
    expect((await ip.status()).profiles.other!.session).toBeNull();
  });
});
