import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { ManualClock } from "../src/clock.js";
import { startDaemon, type RunningDaemon } from "../src/daemon/compose.js";
import { controlClient } from "../src/control/client.js";
import type { EnvInfo, StatusReport } from "../src/control/contract.js";
import { startSandbox, type Sandbox } from "./sandbox/server.js";
import { fetchCredentials } from "./helpers/stack.js";
import { pointDaemonAt } from "./races/in-process.js";
import { configToml, PROFILE_TOML } from "./helpers/config.js";

/**
 * The daemon in this process with a clock the test moves (the sandbox shares it), so "21 minutes
 * later" takes no time. This file owns process.env while it runs (vitest isolates test files).
 */
describe("scenario: grant 20 m → credentials → clock +21 m → refused, cache purged", () => {
  const clock = new ManualClock(Date.now());
  let sandbox: Sandbox;
  let daemon: RunningDaemon;
  let dir: string;
  const saved = { ...process.env };
  const logLines: string[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), "s3jit-sc-"));
    sandbox = await startSandbox({ autoApprove: true, now: () => clock.now() });
    pointDaemonAt(dir, sandbox);
    const configFile = path.join(dir, "config.toml");
    writeFileSync(configFile, configToml({ profiles: PROFILE_TOML }));
    daemon = await startDaemon({ configFile, clock, log: (l) => logLines.push(l) });
  });

  afterAll(async () => {
    await daemon?.stop();
    await sandbox?.close();
    for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
    Object.assign(process.env, saved);
    rmSync(dir, { recursive: true, force: true });
  });

  it("refuses with WindowClosed naming `s3jit grant` once the clock passes the window, and forgets the session", async () => {
    const client = controlClient(path.join(dir, "run", "s3jit", "control.sock"));
    await client.post("/v1/login", {});
    await client.post("/v1/login/wait", { sso: "corp" });
    const w = await client.post<{ end: string }>("/v1/grant", { profile: "audit", for: "20m", reason: "INC-1" });
    expect(Date.parse(w.end) - clock.now()).toBe(20 * 60_000);
    const env = await client.get<EnvInfo>("/v1/env/audit");
    const get = () => fetchCredentials(env.url, env.token);
    const ok = await get();
    expect(ok.status).toBe(200);
    expect(Date.parse(ok.body.Expiration!)).toBeLessThanOrEqual(Date.parse(w.end));

    clock.advance(21 * 60_000);
    const refused = await get();
    expect(refused.status).toBe(403);
    expect(refused.body.code).toBe("WindowClosed");
    expect(refused.body.message).toContain("s3jit grant audit");

    const st = await client.get<StatusReport>("/v1/status");
    expect(st.profiles.audit!.window).toBeNull();
    expect(st.profiles.audit!.session).toBeNull();
    expect(st.profiles.audit!.lastRefusal?.code).toBe("WindowClosed");

    // The audit trail tells the story, without a secret.
    await daemon.stop();
    const audit = readFileSync(path.join(dir, "state", "s3jit", "audit.log"), "utf8");
    const events = audit.trim().split("\n").map((l) => JSON.parse(l) as { event: string; code?: string });
    const kinds = events.map((e) => e.event);
    for (const k of ["login", "grant", "mint", "serve", "refuse", "expire"]) expect(kinds).toContain(k);
    expect(events.find((e) => e.event === "refuse")?.code).toBe("WindowClosed");
    for (const secret of [...sandbox.issuedSecrets(), env.token]) expect(audit.includes(secret)).toBe(false);
    daemon = undefined as unknown as RunningDaemon;
  });
});
