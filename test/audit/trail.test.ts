import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mkdtempSync, mkdirSync, readFileSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { waitForLine } from "../helpers/wait.js";
import { ManualClock } from "../../src/clock.js";
import { startDaemon, type RunningDaemon } from "../../src/daemon/compose.js";
import { controlClient } from "../../src/control/client.js";
import { run as auditCommand } from "../../src/cli/audit.js";
import { auditFiles } from "../../src/audit/audit.js";
import type { EnvInfo, StatusReport } from "../../src/control/contract.js";
import { startSandbox, type Sandbox } from "../sandbox/server.js";
import { SANDBOX_USER } from "../sandbox/context.js";
import { configToml, PROFILE_TOML, profileToml, ROLE_ARN } from "../helpers/config.js";

/**
 * The whole audit trail of one day's work, with the daemon in this process and a clock the test
 * moves (the sandbox shares it): login, two grants (scoped and assume-role with SourceIdentity),
 * hand-outs over the endpoint and credential-process, refusals, the window's end, revoke, logout.
 * Every event carries the fields issue 3 lists, and no secret the sandbox issued nor any endpoint
 * token appears anywhere in the log. This file owns process.env while it runs.
 */
const CHAINED_TOML = profileToml("chained", {
  role_arn: ROLE_ARN,
  source_identity: true,
  scope: ["reports"],
  window: "30m",
  max_window: "2h",
  session_ttl: "1h",
});

type Line = Record<string, unknown> & { event: string; time: string; profile?: string; peer?: Record<string, unknown> };

describe("audit trail of a full scenario", () => {
  const clock = new ManualClock(Date.now());
  let sandbox: Sandbox;
  let daemon: RunningDaemon | undefined;
  let dir: string;
  const saved = { ...process.env };
  const daemonOutput: string[] = [];
  const endpointTokens = new Set<string>();
  let lines: Line[] = [];
  let logText = "";

  const client = () => controlClient(path.join(dir, "run", "s3jit", "control.sock"));
  // Asks again while a mint is under way (503), as an SDK would; the test's timeout is the bound.
  const fetchCreds = async (env: EnvInfo, token = env.token) => {
    for (;;) {
      const res = await fetch(env.url, { headers: { authorization: token } });
      const body = (await res.json()) as Record<string, string>;
      if (res.status !== 503) return { status: res.status, body };
      await new Promise((r) => setTimeout(r, 100));
    }
  };

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), "s3jit-trail-"));
    sandbox = await startSandbox({ autoApprove: true, now: () => clock.now() });
    Object.assign(process.env, {
      XDG_CONFIG_HOME: path.join(dir, "config"),
      XDG_DATA_HOME: path.join(dir, "data"),
      XDG_STATE_HOME: path.join(dir, "state"),
      XDG_CACHE_HOME: path.join(dir, "cache"),
      XDG_RUNTIME_DIR: path.join(dir, "run"),
      AWS_ENDPOINT_URL_STS: sandbox.url,
      AWS_ENDPOINT_URL_SSO: sandbox.url,
      AWS_ENDPOINT_URL_SSO_OIDC: sandbox.url,
    });
    mkdirSync(path.join(dir, "run"), { recursive: true, mode: 0o700 });
    const configFile = path.join(dir, "config.toml");
    writeFileSync(configFile, configToml({ profiles: PROFILE_TOML + CHAINED_TOML }));
    daemon = await startDaemon({ configFile, clock, log: (l) => daemonOutput.push(l) });

    const c = client();
    await c.post("/v1/login", {});
    await c.post("/v1/login/wait", { sso: "corp" });
    await c.post("/v1/grant", { profile: "audit", for: "20m", reason: "INC-1 read logs", who: "jdoe" });
    // A login name AWS would refuse as SourceIdentity (a space): sent in an acceptable form.
    await c.post("/v1/grant", { profile: "chained", for: "30m", reason: "INC-2 reports", who: "Jane Doe" });
    const audit = await c.get<EnvInfo>("/v1/env/audit");
    const chained = await c.get<EnvInfo>("/v1/env/chained");
    endpointTokens.add(audit.token).add(chained.token);

    // The requesting process is looked up after the answer, one lookup at a time (best effort):
    // wait for each serve line before the next hand-out, while the connection is still open.
    const logFile = path.join(dir, "state", "s3jit", "audit.log");
    const served = async (profile: string) => {
      await waitForLine(logFile, new RegExp(`"event":"serve","profile":"${profile}".*"pid":\\d+`));
    };
    expect((await fetchCreds(audit)).status).toBe(200);
    await served("audit");
    expect((await fetchCreds(chained)).status).toBe(200);
    await served("chained");
    expect((await fetchCreds(audit, "not-the-token")).status).toBe(401);
    // credential-process goes through the control socket: audited the same way.
    await c.get("/v1/credentials/chained");

    clock.advance(21 * 60_000);
    const closed = await fetchCreds(audit);
    expect(closed.status).toBe(403);
    expect(closed.body.code).toBe("WindowClosed");
    await expect(c.get("/v1/credentials/audit")).rejects.toMatchObject({ code: "WindowClosed" });
    const st = await c.get<StatusReport>("/v1/status");
    expect(st.profiles.audit).toMatchObject({ window: null, session: null, lastRefusal: { code: "WindowClosed" } });
    await c.post("/v1/revoke", { profile: "chained" });
    await c.post("/v1/logout", {});
    endpointTokens.add((await c.get<EnvInfo>("/v1/env/audit")).token).add((await c.get<EnvInfo>("/v1/env/chained")).token);

    await daemon.stop(); // waits for the serve lines' process lookups and flushes
    daemon = undefined;
    const files = auditFiles(path.join(dir, "state", "s3jit", "audit.log"));
    logText = files.map((f) => readFileSync(f, "utf8")).join("");
    lines = logText.trim().split("\n").map((l) => JSON.parse(l) as Line);
    console.log(`audit trail (${lines.length} lines):\n${logText}`);
  }, 60_000);

  afterAll(async () => {
    await daemon?.stop();
    await sandbox?.close();
    for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
    Object.assign(process.env, saved);
    rmSync(dir, { recursive: true, force: true });
  });

  const of = (event: string, profile?: string) => lines.filter((l) => l.event === event && (profile === undefined || l.profile === profile));
  const isoTime = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{3})?Z$/;

  it("has every event, in order, each with its listed fields", () => {
    expect(lines.map((l) => l.event)).toEqual(expect.arrayContaining(["start", "login", "grant", "mint", "serve", "refuse", "expire", "revoke", "logout", "stop"]));
    for (const l of lines) expect(l.time).toMatch(isoTime);
    expect(lines[0]!.event).toBe("start");
    expect(lines.at(-1)!.event).toBe("stop");
    expect(of("login")[0]).toMatchObject({ sso: "corp", ok: true });

    const [grantA] = of("grant", "audit");
    expect(grantA).toMatchObject({ reason: "INC-1 read logs", who: "jdoe" });
    expect(Date.parse(String(grantA!.end)) - Date.parse(String(grantA!.start))).toBe(20 * 60_000);
    expect(of("grant", "chained")[0]).toMatchObject({ reason: "INC-2 reports", who: "Jane Doe" });

    for (const profile of ["audit", "chained"]) {
      const [mint] = of("mint", profile);
      expect(mint!.accessKeyId).toMatch(/^ASIA[A-Z0-9]{12,}$/);
      expect(mint!.expiration).toMatch(isoTime);
      expect(mint!.policyHash).toMatch(/^[0-9a-f]{64}$/);
      expect(mint!.stsRequestId).toEqual(expect.any(String));
      expect(String(mint!.stsRequestId).length).toBeGreaterThan(8);
      expect(mint!.mode).toBe(profile === "audit" ? "scoped" : "assume-role");
      // What was served is what was minted.
      for (const serve of of("serve", profile)) {
        expect(serve.accessKeyId).toBe(mint!.accessKeyId);
        expect(serve.expiration).toBe(mint!.expiration);
      }
    }

    // The endpoint's hand-outs name the requesting process: here, this test process.
    const byEndpoint = of("serve").filter((l) => l.peer && "port" in l.peer);
    expect(byEndpoint.map((l) => l.profile).sort()).toEqual(["audit", "chained"]);
    for (const l of byEndpoint) {
      expect(l.peer).toMatchObject({ pid: process.pid, cwd: process.cwd(), exe: realpathSync(process.execPath) });
    }
    expect(of("serve", "chained").some((l) => l.peer?.via === "control")).toBe(true);

    const refusals = of("refuse");
    expect(refusals.find((l) => l.code === "Unauthorized")).toMatchObject({ profile: "audit", peer: { address: "127.0.0.1", port: expect.any(Number) } });
    expect(refusals.filter((l) => l.profile === "audit" && l.code === "WindowClosed").map((l) => (l.peer?.via === "control" ? "control" : "endpoint")).sort()).toEqual(["control", "endpoint"]);
    expect(of("expire", "audit")).toHaveLength(1);
    expect(of("revoke", "chained")).toHaveLength(1);
  });

  it("holds no secret: nothing the sandbox issued (keys, session and SSO tokens, client secrets) and no endpoint token, old or rotated", () => {
    const secrets = [...sandbox.issuedSecrets(), ...endpointTokens];
    expect(sandbox.issuedSecrets().length).toBeGreaterThan(8);
    expect(endpointTokens.size).toBe(4);
    for (const s of secrets) {
      expect(s.length).toBeGreaterThan(15);
      expect(logText.includes(s)).toBe(false);
      expect(daemonOutput.join("\n").includes(s)).toBe(false);
    }
  });

  it("CloudTrail tells the same story: ScopedSessionDescription names the person, who granted and why; AssumeRole carries the person as SourceIdentity", () => {
    const scoped = sandbox.requests.filter((r) => r.action === "GetScopedCredentials");
    expect(scoped.length).toBeGreaterThan(0);
    // The IAM Identity Center user (as GetCallerIdentity names them), then the OS account that granted.
    for (const r of scoped) expect(r.params.ScopedSessionDescription).toBe(`s3jit audit for ${SANDBOX_USER} (jdoe): INC-1 read logs`);
    const assumed = sandbox.requests.filter((r) => r.action === "AssumeRole");
    expect(assumed.length).toBeGreaterThan(0);
    for (const r of assumed) {
      expect(r.params.SourceIdentity).toBe(SANDBOX_USER);
      expect(r.params.RoleSessionName).toBe(SANDBOX_USER);
    }
  });

  it("`s3jit audit` prints it readably, --json raw, --since filters", async () => {
    const out: string[] = [];
    const io = { out: (t: string) => out.push(t), err: (t: string) => out.push(`ERR ${t}`), color: false, env: {} };
    const file = path.join(dir, "state", "s3jit", "audit.log");
    expect(await auditCommand({ json: false, file, since: "1h" }, { io })).toBe(0);
    expect(out).toHaveLength(lines.length);
    expect(out.find((l) => /\bgrant\s/.test(l))).toMatch(/grant\s+profile=audit reason="INC-1 read logs" who=jdoe start=\S+ end=\S+/);
    expect(out.find((l) => /\brefuse\s/.test(l) && l.includes("WindowClosed"))).toMatch(/profile=audit code=WindowClosed/);
    out.length = 0;
    expect(await auditCommand({ json: true, file }, { io })).toBe(0);
    expect(out.join("\n")).toBe(logText.trim());
    out.length = 0;
    expect(await auditCommand({ json: true, file, since: "1h" }, { io }, Date.now() + 2 * 3600_000)).toBe(0);
    expect(out).toEqual([]);
  });
});
