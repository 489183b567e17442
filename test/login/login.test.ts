import { afterEach, describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import path from "node:path";
import { ROOT, startStack, type Stack } from "../helpers/stack.js";
import { waitForFile } from "../helpers/wait.js";

const FAKE_BROWSER = `${process.execPath} ${path.join(ROOT, "test/fixtures/fake-browser.mjs")}`;

describe("s3jit login", () => {
  let stack: Stack | undefined;
  afterEach(async () => {
    await stack?.close();
    stack = undefined;
  });

  it("authorization code + PKCE where a browser can be opened: the callback completes the login over real HTTP", async () => {
    stack = await startStack();
    const log = path.join(stack.dir, "browser.log");
    const r = await stack.cli(["login"], { env: { BROWSER: FAKE_BROWSER, FAKE_BROWSER_LOG: log } });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain("Opening your browser to sign in to IAM Identity Center (corp)");
    expect(r.stderr).toMatch(/code_challenge_method=S256/);
    expect(r.stdout).toContain("logged in to corp");
    expect(readFileSync(log, "utf8")).toContain("callback 200");
    const reg = stack.sandbox.requests.find((q) => q.action === "RegisterClient")!;
    expect(reg.params.grantTypes).toEqual(["authorization_code", "refresh_token"]);
    const token = stack.sandbox.requests.filter((q) => q.action === "CreateToken").at(-1)!;
    expect(token.params.grantType).toBe("authorization_code");
    expect(String(token.params.codeVerifier).length).toBeGreaterThanOrEqual(43);
    expect(stack.sandbox.count("StartDeviceAuthorization")).toBe(0);
    expect(JSON.parse((await stack.cli(["status", "--json"])).stdout).sso.corp.loggedIn).toBe(true);
  });

  it("a callback with a forged state is refused and does not end the login; the real one completes it", async () => {
    stack = await startStack();
    const log = path.join(stack.dir, "browser.log");
    const r = await stack.cli(["login"], { env: { BROWSER: FAKE_BROWSER, FAKE_BROWSER_LOG: log, FAKE_BROWSER_TAMPER: "1" } });
    expect(r.code, r.stderr).toBe(0);
    // The login ends when the token is kept; the browser hears its answer a moment later and
    // writes its last line then: wait for that line (seen read too early on a loaded CI machine).
    const lines = await waitForFile(log, (text) => /^callback /m.test(text) && text, "the browser's callback line");
    expect(lines).toContain("forged 400 refused");
    expect(lines).toContain("callback 200");
  });

  it("without a display (SSH, headless, WSL) it uses the device code and says what to do", async () => {
    stack = await startStack();
    const r = await stack.cli(["login"], { env: { SSH_CONNECTION: "10.0.0.1 5000 10.0.0.2 22" } });
    expect(r.code).toBe(0);
    expect(r.stderr).toContain("open this page on any device");
    expect(r.stderr).toMatch(/shows the code \S+/);
    expect(r.stderr).toMatch(/Waiting for approval \(expires at \d{4}-/);
    expect(stack.sandbox.count("StartDeviceAuthorization")).toBe(1);
  });

  it("storm: 100 requests with a login due for refresh that cannot be refreshed get 403 LoginRequired, and no login starts", async () => {
    // A token with a minute left is inside the 5 minutes before its end when s3jit refreshes it
    // (src/sso/tokens.ts): the first mint refreshes at once, no waiting for the token to expire.
    stack = await startStack({ sandbox: { accessTokenTtlSeconds: 60 } });
    expect((await stack.cli(["login", "--no-browser"])).code).toBe(0);
    // The issuer refuses the refresh (signed out elsewhere): only a new login helps.
    stack.sandbox.inject({ action: "CreateToken", status: 400, code: "InvalidGrantException", times: 5 });
    expect((await stack.cli(["grant", "audit", "--for", "20m", "--reason", "storm"])).code).toBe(0);
    const env = await stack.clientEnv("audit");
    const logins = stack.sandbox.count("StartDeviceAuthorization") + stack.sandbox.count("Authorize");
    const results = await Promise.all(
      Array.from({ length: 100 }, async () => {
        const res = await fetch(env.AWS_CONTAINER_CREDENTIALS_FULL_URI!, { headers: { authorization: env.AWS_CONTAINER_AUTHORIZATION_TOKEN! } });
        return { status: res.status, body: (await res.json()) as { code: string; message: string } };
      }),
    );
    const codes = results.map((r) => r.body.code);
    // The first few may still see the refresh under way (503 + Retry-After); none waits long.
    expect(codes.filter((c) => c === "LoginRequired").length).toBeGreaterThanOrEqual(95);
    expect(codes.every((c) => c === "LoginRequired" || c === "MintPending")).toBe(true);
    expect(results.find((r) => r.body.code === "LoginRequired")!.body.message).toContain("s3jit login corp");
    // Not waiting on a login: none starts, so an endpoint that waited for one would never answer
    // and the test's own timeout would fail it (no duration is asserted).
    expect(stack.sandbox.count("StartDeviceAuthorization") + stack.sandbox.count("Authorize")).toBe(logins);
    const st = JSON.parse((await stack.cli(["status", "--json"])).stdout);
    expect(st.sso.corp.loggedIn).toBe(false);
    expect(st.profiles.audit.lastRefusal.code).toBe("LoginRequired");
  }, 90_000);
});

describe("auto_login = true", () => {
  it("the daemon opens the browser by itself once when a mint finds no login, and then serves", async () => {
    const stack = await startStack({ startDaemon: false });
    try {
      const { readFileSync: read, writeFileSync } = await import("node:fs");
      writeFileSync(stack.configFile, read(stack.configFile, "utf8").replace('region = "eu-west-1"\n', 'region = "eu-west-1"\nauto_login = true\n'));
      await stack.startDaemon({ BROWSER: FAKE_BROWSER });
      expect((await stack.cli(["grant", "audit", "--for", "20m", "--reason", "auto"])).code).toBe(0);
      const env = await stack.clientEnv("audit");
      // Asked again as an SDK would until the login the daemon started has come back (the test's
      // timeout is the only bound): refusals meanwhile are LoginRequired (403) or MintPending (503).
      const ask = async () => {
        const res = await fetch(env.AWS_CONTAINER_CREDENTIALS_FULL_URI!, { headers: { authorization: env.AWS_CONTAINER_AUTHORIZATION_TOKEN! } });
        return { status: res.status, code: ((await res.json()) as { code?: string }).code };
      };
      for (let r = await ask(); r.status !== 200; r = await ask()) {
        expect([403, 503], JSON.stringify(r)).toContain(r.status);
        await new Promise((res) => setTimeout(res, 200));
      }
      expect(stack.sandbox.count("GetScopedCredentials")).toBeGreaterThanOrEqual(1);
      expect(stack.sandbox.count("Authorize")).toBe(1);
    } finally {
      await stack.close();
    }
  }, 90_000);
});
