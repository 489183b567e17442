import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import path from "node:path";
import { fetchCredentials, OTHER_PROFILE_TOML, PROFILE_TOML, ROOT, startStack, type Stack } from "./helpers/stack.js";
import { buildSessionPolicy } from "../src/policy/build.js";

const run = promisify(execFile);

const fetchCreds = (url: string, token: string) => fetchCredentials(url, token, 0);

const TWO_PROFILES = PROFILE_TOML + OTHER_PROFILE_TOML;

describe("s3jit end to end: SSO login → grant → a real JS SDK gets window-bound credentials", () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ profileToml: TWO_PROFILES });
  });
  afterAll(async () => {
    await stack?.close();
  });

  it("says login is required before any login", async () => {
    const st = await stack.cli(["status", "--json"]);
    expect(st.code).toBe(0);
    const json = JSON.parse(st.stdout);
    expect(json.sso.corp.loggedIn).toBe(false);
    expect(json.profiles.audit.window).toBeNull();
    expect(json.daemon.pid).toBe(stack.daemon!.pid);
  });

  it("refuses credentials while no window is open", async () => {
    const env = await stack.clientEnv("audit");
    const r = await fetchCreds(env.AWS_CONTAINER_CREDENTIALS_FULL_URI!, env.AWS_CONTAINER_AUTHORIZATION_TOKEN!);
    expect(r.status).toBe(403);
    expect(r.body.code).toBe("WindowClosed");
    expect(r.body.message).toContain("s3jit grant audit");
  });

  it("logs in with the device code flow and shows the user the URL and code", async () => {
    const r = await stack.cli(["login", "--no-browser"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/https?:\/\/\S+/);
    const code = stack.sandbox.requests.find((q) => q.action === "StartDeviceAuthorization");
    expect(code).toBeDefined();
    expect(r.stdout).toContain("logged in to corp");
    const st = JSON.parse((await stack.cli(["status", "--json"])).stdout);
    expect(st.sso.corp.loggedIn).toBe(true);
  });

  it("refuses a grant longer than max_window", async () => {
    const r = await stack.cli(["grant", "audit", "--for", "3h", "--reason", "too long"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/max_window|2h/);
  });

  it("serves 50 concurrent first requests with exactly one mint, Expiration within the window", async () => {
    const before = stack.sandbox.count("GetScopedCredentials");
    const g = await stack.cli(["grant", "audit", "--for", "20m", "--reason", "ticket-1"]);
    expect(g.code, g.stderr).toBe(0);
    const env = await stack.clientEnv("audit");
    const st = JSON.parse((await stack.cli(["status", "--json"])).stdout);
    const windowEnd = Date.parse(st.profiles.audit.window.end);

    const results = await Promise.all(
      Array.from({ length: 50 }, () => fetchCredentials(env.AWS_CONTAINER_CREDENTIALS_FULL_URI!, env.AWS_CONTAINER_AUTHORIZATION_TOKEN!)),
    );
    expect(results.every((r) => r.status === 200)).toBe(true);
    expect(new Set(results.map((r) => r.body.AccessKeyId)).size).toBe(1);
    expect(stack.sandbox.count("GetScopedCredentials") - before).toBe(1);
    const body = results[0]!.body;
    expect(body.Expiration).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(Date.parse(body.Expiration!)).toBeLessThanOrEqual(windowEnd);
    expect(body.AccountId).toBe("123456789012");

    // What the daemon sent STS: the session policy for this window, and no more time than it has.
    const mint = stack.sandbox.requests.filter((q) => q.action === "GetScopedCredentials").at(-1)!;
    expect(mint.params.Policy).toBe(
      buildSessionPolicy({ scope: [{ bucket: "audit-logs", prefix: "2026/" }, { bucket: "reports", prefix: "" }], region: "eu-west-1", kmsKeys: [], windowEnd }),
    );
    expect(Number(mint.params.DurationSeconds)).toBeLessThanOrEqual(20 * 60);
    expect(Number(mint.params.DurationSeconds)).toBeGreaterThan(18 * 60);
    // CloudTrail tells the same story as the audit log: who and why.
    // The person who logged in (as AWS names them), the OS account that granted, and the reason.
    expect(mint.params.ScopedSessionDescription).toMatch(/^s3jit audit for sandbox-user \(\S+\): ticket-1$/);
  });

  it("a real AWS SDK for JavaScript v3, configured only by `s3jit env`, gets the credentials", async () => {
    const env = await stack.clientEnv("audit");
    const { stdout } = await run(process.execPath, [path.join(ROOT, "test/fixtures/js-sdk-identity.mjs")], {
      env: { ...env, AWS_ENDPOINT_URL_STS: stack.sandbox.url },
      cwd: ROOT,
    });
    const out = JSON.parse(stdout);
    const served = await fetchCreds(env.AWS_CONTAINER_CREDENTIALS_FULL_URI!, env.AWS_CONTAINER_AUTHORIZATION_TOKEN!);
    expect(out.accessKeyId).toBe(served.body.AccessKeyId);
    expect(out.arn).toBeTruthy();
  });

  it("a token opens only its own profile", async () => {
    const audit = await stack.clientEnv("audit");
    const other = await stack.clientEnv("other");
    const r = await fetchCreds(other.AWS_CONTAINER_CREDENTIALS_FULL_URI!, audit.AWS_CONTAINER_AUTHORIZATION_TOKEN!);
    expect(r.status).toBe(401);
    expect(r.body.code).toBe("Unauthorized");
  });

  it("refuses credentials after revoke", async () => {
    const env = await stack.clientEnv("audit");
    expect((await stack.cli(["revoke", "audit"])).code).toBe(0);
    const r = await fetchCreds(env.AWS_CONTAINER_CREDENTIALS_FULL_URI!, env.AWS_CONTAINER_AUTHORIZATION_TOKEN!);
    expect(r.status).toBe(403);
    expect(r.body.code).toBe("WindowClosed");
    const st = JSON.parse((await stack.cli(["status", "--json"])).stdout);
    expect(st.profiles.audit.session).toBeNull();
    expect(st.profiles.audit.lastRefusal.code).toBe("WindowClosed");
  });

  it("a second daemon for the same user exits 1 naming the first one's pid", async () => {
    const r = await stack.cli(["daemon"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`pid ${stack.daemon!.pid}`);
  });

  it("exits 0 on SIGTERM, and the CLI then exits 3 saying how to start the daemon", async () => {
    expect(await stack.stopDaemon("SIGTERM")).toBe(0);
    const r = await stack.cli(["status"]);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain("s3jit daemon");
  });
});
