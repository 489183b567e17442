import { afterEach, describe, expect, it } from "vitest";
import { spawn } from "node:child_process";
import { chmodSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { CLI, fetchCredentials, startStack, type Stack } from "../helpers/stack.js";
import { run as login } from "../../src/cli/login.js";
import { controlClient } from "../../src/control/client.js";
import { waitForFile } from "../helpers/wait.js";

/** Runs `s3jit …` and hands its stderr to `onErr` as it arrives (the user reads as the command waits). */
function runLive(stack: Stack, args: string[], env: NodeJS.ProcessEnv, onErr: (all: string) => void): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: { ...stack.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => {
      stderr += d.toString();
      onErr(stderr);
    });
    child.on("error", reject);
    child.on("close", (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

/** A stand-in for the user's browser opener: records each URL it is asked to open, opens nothing. */
function recordingOpener(dir: string): { browser: string; log: string; opened: () => string[] } {
  const script = path.join(dir, "opener.sh");
  const log = path.join(dir, "opened.log");
  writeFileSync(script, `#!/bin/sh\nprintf '%s\\n' "$1" >> '${log}'\n`);
  chmodSync(script, 0o700);
  return { browser: script, log, opened: () => (existsSync(log) ? readFileSync(log, "utf8").split("\n").filter(Boolean) : []) };
}

describe("s3jit login, as the user sees it", () => {
  let stack: Stack | undefined;
  afterEach(async () => {
    await stack?.close();
    stack = undefined;
  });

  it("--no-browser prints the verification URL and code, opens nothing, and returns once the code is approved", async () => {
    stack = await startStack({ sandbox: { autoApprove: false } });
    const s = stack;
    const opener = recordingOpener(s.dir);
    let approved = false;
    const r = await runLive(s, ["login", "--no-browser"], { BROWSER: opener.browser, DISPLAY: ":0" }, (err) => {
      const code = /shows the code (\S+)\./.exec(err)?.[1];
      if (code && !approved && err.includes("Waiting for approval")) {
        approved = true;
        const url = /open this page on any device:\n\s+(\S+)/.exec(err)![1]!;
        expect(url.startsWith(`${s.sandbox.url}/`)).toBe(true);
        expect(url).toContain(code);
        // The user opens the page and clicks Allow.
        void fetch(url);
      }
    });
    expect(r.code, r.stderr).toBe(0);
    expect(approved).toBe(true);
    expect(r.stderr).toMatch(/To sign in to IAM Identity Center \(corp\), open this page on any device:\n {2}http:\/\/127\.0\.0\.1:\d+\/sandbox\/device\?user_code=\S+\nand check that it shows the code \S+\.\nWaiting for approval \(expires at \d{4}-\d\d-\d\dT[\d:.]+Z\)…/);
    expect(r.stdout).toMatch(/^logged in to corp until \d{4}-/m);
    expect(opener.opened()).toEqual([]);
    expect(s.sandbox.count("StartDeviceAuthorization")).toBe(1);
    expect(s.sandbox.count("Authorize")).toBe(0);
  });

  it("a device code that expires before approval ends the login with exit 1 and says to run it again", async () => {
    stack = await startStack({ sandbox: { autoApprove: false } });
    const s = stack;
    let moved = false;
    const r = await runLive(s, ["login", "--no-browser"], {}, (err) => {
      if (!moved && err.includes("Waiting for approval")) {
        moved = true;
        // Ten minutes pass at the identity provider: the next poll hears ExpiredTokenException.
        void fetch(`${s.sandbox.url}/sandbox/clock`, { method: "POST", body: JSON.stringify({ advanceMs: 601_000 }), headers: { "content-type": "application/json" } });
      }
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("expired before it was approved: run `s3jit login` again");
    const st = JSON.parse((await s.cli(["status", "--json"])).stdout);
    expect(st.sso.corp).toMatchObject({ loggedIn: false, loginPending: false });
  });

  it("`s3jit login` with an opener (BROWSER) that plays the browser: PKCE end to end, no device code", async () => {
    stack = await startStack();
    const s = stack;
    const script = path.join(s.dir, "browser.mjs");
    // Follows the authorize URL by hand, then delivers the 302 to the daemon's callback.
    writeFileSync(script, `const r = await fetch(process.argv[2], { redirect: "manual" }); const b = await fetch(r.headers.get("location")); console.log(b.status);\n`);
    const r = await s.cli(["login"], { env: { BROWSER: `${process.execPath} ${script}`, DISPLAY: ":0" } });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/Opening your browser to sign in to IAM Identity Center \(corp\)\.\nIf it does not open, visit:\n {2}http:\/\/127\.0\.0\.1:\d+\/authorize\?response_type=code&client_id=\S+&redirect_uri=http%3A%2F%2F127\.0\.0\.1%3A\d+%2Foauth%2Fcallback&state=\S+&code_challenge=\S+&code_challenge_method=S256/);
    expect(r.stdout).toMatch(/^logged in to corp until /m);
    expect(s.sandbox.count("Authorize")).toBe(1);
    expect(s.sandbox.count("StartDeviceAuthorization")).toBe(0);
    // The login is the daemon's: a grant mints at once, with no second sign-in.
    expect((await s.cli(["grant", "audit", "--for", "15m", "--reason", "pkce e2e"])).code).toBe(0);
    const env = await s.clientEnv("audit");
    expect((await fetchCredentials(env.AWS_CONTAINER_CREDENTIALS_FULL_URI!, env.AWS_CONTAINER_AUTHORIZATION_TOKEN!)).status).toBe(200);
  });

  it("on a terminal the countdown rewrites one line in place; elsewhere it prints plain lines", async () => {
    stack = await startStack({ sandbox: { autoApprove: false } });
    const s = stack;
    const client = controlClient(path.join(s.env.XDG_RUNTIME_DIR!, "s3jit", "control.sock"));
    for (const tty of [true, false]) {
      const writes: string[] = [];
      const lines: string[] = [];
      // The countdown ticks (real 100 ms ticks: they only pace it) until a few have been shown,
      // then the user approves: counted as they come, not after a pause.
      let ticked!: () => void;
      const enough = new Promise<void>((r) => (ticked = r));
      const seen = () => (tty ? writes.length : lines.length) >= 4 && ticked();
      const io = { out: (t: string) => lines.push(`out:${t}`), err: (t: string) => (lines.push(t), seen()), color: false, env: {} };
      const running = login({ noBrowser: true, force: true }, { io, client, tty, tickMs: 100, write: (t) => (writes.push(t), seen()) });
      await enough;
      const code = /shows the code (\S+)\./.exec(lines.join("\n"))![1]!;
      await fetch(`${s.sandbox.url}/sandbox/device?user_code=${encodeURIComponent(code)}`);
      expect(await running).toBe(0);
      if (tty) {
        const ticks = writes.slice(0, -1);
        expect(ticks.length).toBeGreaterThanOrEqual(3);
        const clear = "\r\u001b[2K";
        for (const w of ticks) {
          expect(w.startsWith(clear)).toBe(true);
          expect(w.slice(clear.length)).toMatch(/^Waiting for approval — expires in (9m|10m)\d\ds$/);
        }
        expect(writes.at(-1)).toBe("\r\x1b[2K");
        expect(lines.some((l) => l.startsWith("Waiting"))).toBe(false);
      } else {
        expect(writes).toEqual([]);
        expect(lines.find((l) => l.startsWith("Waiting for approval (expires at "))).toBeDefined();
        expect(lines.filter((l) => /^Waiting for approval: (9m|10m)\d\ds left$/.test(l)).length).toBeGreaterThanOrEqual(2);
      }
      expect(lines.at(-1)).toMatch(/^out:logged in to corp until /);
    }
  });
});

describe("storm with auto_login = true", () => {
  it("100 concurrent requests without a login: 100 fast 403 LoginRequired and exactly one browser opened; once signed in, served", async () => {
    const stack = await startStack({ startDaemon: false });
    try {
      const opener = recordingOpener(stack.dir);
      writeFileSync(stack.configFile, readFileSync(stack.configFile, "utf8").replace('region = "eu-west-1"\n', 'region = "eu-west-1"\nauto_login = true\n'));
      await stack.startDaemon({ BROWSER: opener.browser, DISPLAY: ":0" });
      expect((await stack.cli(["grant", "audit", "--for", "20m", "--reason", "storm"])).code).toBe(0);
      const env = await stack.clientEnv("audit");
      const ask = async () => {
        const res = await fetch(env.AWS_CONTAINER_CREDENTIALS_FULL_URI!, { headers: { authorization: env.AWS_CONTAINER_AUTHORIZATION_TOKEN! } });
        return { status: res.status, code: ((await res.json()) as { code?: string }).code };
      };
      // Not waiting on the sign-in: it happens only after these answers, so an endpoint that
      // waited for it would never answer and the test's own timeout would fail it.
      for (let round = 0; round < 2; round++) {
        const results = await Promise.all(Array.from({ length: 100 }, ask));
        expect(results.filter((r) => r.status === 403 && r.code === "LoginRequired")).toHaveLength(100);
      }
      // The opener runs detached: wait for its line (the user needs the URL it was given).
      await waitForFile(opener.log, (text) => text.includes("\n"), "the browser opened");
      expect(stack.sandbox.count("RegisterClient")).toBe(1);
      expect(stack.sandbox.count("StartDeviceAuthorization")).toBe(0);
      // The user finishes the one sign-in that was opened.
      const idp = await fetch(opener.opened()[0]!, { redirect: "manual" });
      expect((await fetch(idp.headers.get("location")!)).status).toBe(200);
      expect((await fetchCredentials(env.AWS_CONTAINER_CREDENTIALS_FULL_URI!, env.AWS_CONTAINER_AUTHORIZATION_TOKEN!)).status).toBe(200);
      expect(stack.sandbox.count("Authorize")).toBe(1);
      // One tab: a second opener would have been started during the storm, long before this; one
      // that a loaded machine starts later still could only hide here, never fail a good run.
      expect(opener.opened()).toHaveLength(1);
    } finally {
      await stack.close();
    }
  }, 90_000);
});
