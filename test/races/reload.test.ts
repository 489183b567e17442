import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { chmodSync, mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { AUDIT, profileToml } from "../helpers/config.js";
import type { EnvInfo } from "../../src/control/contract.js";
import { fetchCredentials } from "../helpers/stack.js";
import { waitFor } from "../lifecycle/control.js";
import { startLoggedIn, type InProcess } from "./in-process.js";

const HOUR = 3600_000;
const MIN = 60_000;
const audit = (keys: Record<string, string | string[]> = {}) => profileToml("audit", { ...AUDIT, ...keys });

/**
 * Reload is all or nothing (issue 13): parse, validate every profile, then swap in one step; a
 * refused reload changes nothing. A window is cut only by a config stricter than the one it was
 * granted under.
 */
describe("reload", () => {
  let ip: InProcess;
  beforeEach(async () => {
    ip = await startLoggedIn(audit());
  });
  afterEach(async () => {
    await ip.close();
  });

  it("a refused reload changes nothing: a new profile whose token file cannot be used is not live", async () => {
    // The new profile's token file is open to others: the endpoint tokens refuse it (InsecureFile).
    const tokenFile = path.join(ip.dir, "data", "s3jit", "tokens", "fresh");
    mkdirSync(path.dirname(tokenFile), { recursive: true });
    writeFileSync(tokenFile, "x".repeat(43));
    chmodSync(tokenFile, 0o644);
    ip.writeConfig(audit({ max_window: "1h" }) + profileToml("fresh", { scope: ["reports"] }));
    await ip.client.post("/v1/grant", { profile: "audit", for: "2h", reason: "before reload" });
    const before = (await ip.status()).profiles.audit!.window!;

    await ip.daemon.reload();

    expect(ip.daemonLog.join("\n")).toContain("kept the running config");
    const st = await ip.status();
    expect(Object.keys(st.profiles)).toEqual(["audit"]);
    await expect(ip.client.get("/v1/env/fresh")).rejects.toMatchObject({ code: "UnknownProfile" });
    await expect(ip.client.post("/v1/grant", { profile: "fresh", reason: "x" })).rejects.toMatchObject({ code: "UnknownProfile" });
    // Nor was the window cut to the refused config's max_window.
    expect(st.profiles.audit!.window!.end).toBe(before.end);
  });

  it("a refused reload changes nothing: a new profile with a malformed hours is not live", async () => {
    ip.writeConfig(audit() + profileToml("fresh", { scope: ["reports"], hours: "Mon-Fri 25:00-26:00", timezone: "UTC" }));
    await ip.daemon.reload();
    expect(ip.daemonLog.join("\n")).toContain("kept the running config");
    expect(Object.keys((await ip.status()).profiles)).toEqual(["audit"]);
  });

  it("an unchanged config keeps an extended window as it is (no cut back to start + max_window)", async () => {
    await ip.client.post("/v1/grant", { profile: "audit", for: "2h", reason: "long job" });
    ip.clock.advance(30 * MIN);
    await ip.client.post("/v1/grant", { profile: "audit", for: "2h", reason: "long job, extended" });
    const extended = (await ip.status()).profiles.audit!.window!;
    expect(Date.parse(extended.end) - Date.parse(extended.start)).toBe(2.5 * HOUR);

    await ip.daemon.reload();

    expect(ip.daemonLog.join("\n")).toContain("reloaded");
    expect((await ip.status()).profiles.audit!.window!.end).toBe(extended.end);
  });

  it("a stricter max_window cuts a window to what the new limit allows from its last grant", async () => {
    await ip.client.post("/v1/grant", { profile: "audit", for: "2h", reason: "long job" });
    ip.clock.advance(30 * MIN);
    const extendedAt = ip.clock.now();
    await ip.client.post("/v1/grant", { profile: "audit", for: "2h", reason: "long job, extended" });

    ip.writeConfig(audit({ max_window: "1h" }));
    await ip.daemon.reload();

    expect(Date.parse((await ip.status()).profiles.audit!.window!.end)).toBe(extendedAt + HOUR);
  });

  it("a reload that narrows the scope while STS holds a mint wins: only a session under the new scope is served", async () => {
    ip.sandbox.inject({ action: "GetScopedCredentials", delayMs: 1500 });
    await ip.client.post("/v1/grant", { profile: "audit", for: "30m", reason: "slow mint" });
    const held = await waitFor("the mint to reach STS", () => ip.sandbox.requests.find((r) => r.action === "GetScopedCredentials" && r.status === 0));
    ip.writeConfig(audit({ scope: ["audit-logs/2026/"] }));
    await ip.daemon.reload();
    expect(ip.daemonLog.join("\n")).toContain("reloaded");
    await waitFor("STS to answer", () => held.status !== 0);
    const env = await ip.client.get<EnvInfo>("/v1/env/audit");
    const res = await fetchCredentials(env.url, env.token);
    expect(res.status).toBe(200);
    const policy = ip.sandbox.sessionPolicy(res.body.AccessKeyId!) ?? "";
    expect(policy).toContain("audit-logs");
    expect(policy).not.toContain("reports");
  });
});
