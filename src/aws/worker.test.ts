import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readdirSync, readFileSync } from "node:fs";
import { setTimeout as tick } from "node:timers/promises";
import { ManualClock, ManualTimers } from "../clock.js";
import { MintRefusedError, UpstreamError } from "../errors.js";
import { TokenPollFailure } from "../sso/api.js";
import { SsoLogins } from "../sso/logins.js";
import { AwsMinter, type MintRequest } from "../sts/mint.js";
import type { AwsCredentials } from "../types.js";
import { startSandbox, type Sandbox } from "../../test/sandbox/server.js";
import { CORP, memoryVault, pointSdkAt } from "../../test/sso/sandbox-login.js";
import { startStack, type Stack } from "../../test/helpers/stack.js";
import { AwsWorker, WorkerMinter, WorkerSsoApi } from "./worker.js";

const POLICY = JSON.stringify({ Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: "s3:GetObject", Resource: "arn:aws:s3:::audit-logs/*" }] });
const IDLE_MS = 30_000;

/** Whether a process still exists (a reaped child no longer does). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The AWS helper processes whose parent is `ppid` (Linux /proc). */
function helpersOf(ppid: number): number[] {
  return readdirSync("/proc")
    .filter((d) => /^\d+$/.test(d))
    .filter((d) => {
      try {
        const stat = readFileSync(`/proc/${d}/stat`, "utf8");
        const parent = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
        return parent === ppid && readFileSync(`/proc/${d}/cmdline`, "utf8").includes("worker-main");
      } catch {
        return false;
      }
    })
    .map(Number);
}

/**
 * The AWS SDK in a helper process (aws/worker.ts), against the sandbox's SSO and STS: what the
 * broker and the login flow get is what the in-process adapters give, and the helper lives only
 * while AWS calls come (its idle period on a manual clock).
 */
describe("the AWS helper process", () => {
  // Days away from the helper's own clock: lifetimes must count from this one.
  const clock = new ManualClock(Date.now() + 3 * 86_400_000);
  const timers = new ManualTimers(clock);
  const exits: Array<{ pid: number; expected: boolean }> = [];
  const worker = new AwsWorker({ clock, timers, idleMs: IDLE_MS, onExit: (pid, expected) => exits.push({ pid, expected }) });
  const minter = new WorkerMinter(worker);
  let sandbox: Sandbox;
  let restore: () => void;
  let logins: SsoLogins;
  let base: AwsCredentials;
  const req = (over: Partial<MintRequest> = {}): MintRequest => ({ region: "eu-west-1", base, policy: POLICY, durationSeconds: 900, description: "s3jit test", ...over });
  const exited = async (n: number) => {
    while (exits.length < n) await tick(5);
  };

  beforeAll(async () => {
    sandbox = await startSandbox({ autoApprove: true, now: () => clock.now() });
    // The helper is started after this: it gets the SDK's endpoint variables as the daemon's SDK did.
    restore = pointSdkAt(sandbox);
    logins = new SsoLogins({ api: new WorkerSsoApi(worker), vault: memoryVault(), clock, sso: () => ({ corp: CORP }), sleep: async (ms) => clock.advance(ms) });
    await logins.startLogin("corp");
    await logins.waitLogin("corp");
    base = await logins.roleCredentials("corp", "123456789012", "S3JitBase");
  });
  afterAll(async () => {
    await worker.close();
    restore();
    await sandbox.close();
  });

  it("runs the login and a mint; lifetimes count from the daemon's clock", async () => {
    expect(worker.started).toBe(1);
    expect(logins.state("corp")).toMatchObject({ loggedIn: true });
    const api = new WorkerSsoApi(worker);
    const reg = await api.registerClient("eu-west-1", ["sso:account:access"]);
    // The sandbox's device codes last 600 s.
    expect((await api.startDeviceAuthorization("eu-west-1", reg, CORP.startUrl)).expiresAt).toBe(clock.now() + 600_000);
    const minted = await minter.mint(req());
    expect(minted.accessKeyId).toMatch(/^ASIA/);
    // STS's Expiration has whole seconds.
    expect(minted.expiration).toBe(Math.floor((clock.now() + 900_000) / 1000) * 1000);
    expect(await minter.whoAmI("eu-west-1", base)).toContain("S3JitBase");
    expect(sandbox.count("GetScopedCredentials")).toBe(1);
    expect(worker.started).toBe(1);
  });

  it("an AWS refusal keeps its class, code and message", async () => {
    const inProcess = new AwsMinter();
    try {
      const tooLarge = req({ policy: POLICY.replace("audit-logs", "a".repeat(2048)) });
      const here: unknown = await inProcess.mint(tooLarge).catch((e: unknown) => e);
      const there: unknown = await minter.mint(tooLarge).catch((e: unknown) => e);
      expect(there).toBeInstanceOf(MintRefusedError);
      expect(there).toMatchObject({ code: "MintRefused", awsCode: "PackedPolicyTooLarge", message: (here as Error).message, name: "MintRefusedError" });

      sandbox.inject({ action: "GetScopedCredentials", code: "Throttling", times: 6 });
      const hereThrottled: unknown = await inProcess.mint(req()).catch((e: unknown) => e);
      const thereThrottled: unknown = await minter.mint(req()).catch((e: unknown) => e);
      expect(thereThrottled).toBeInstanceOf(UpstreamError);
      expect(thereThrottled).toMatchObject({ code: "UpstreamError", retryAfterSeconds: 2, message: (hereThrottled as Error).message });
    } finally {
      inProcess.destroy();
    }
    const expired: unknown = await new WorkerSsoApi(worker).getRoleCredentials("eu-west-1", "not-a-token", "123456789012", "S3JitBase").catch((e: unknown) => e);
    expect(expired).toBeInstanceOf(TokenPollFailure);
    expect(expired).toMatchObject({ code: "ExpiredToken", reason: "ExpiredToken" });
  });

  it("is ended after the idle period, not while a call is under way; the next call starts a new one", async () => {
    const held = sandbox.hold("GetScopedCredentials");
    const minting = minter.mint(req());
    await held.arrived;
    // A call under way: no idle timer runs, however long AWS takes.
    expect(timers.size).toBe(0);
    const first = worker.pid!;
    held.release();
    await minting;
    expect(timers.size).toBe(1);
    timers.advance(IDLE_MS - 1);
    expect(worker.pid).toBe(first);
    const before = exits.length;
    timers.advance(1);
    await exited(before + 1);
    expect(exits.at(-1)).toEqual({ pid: first, expected: true });
    expect(alive(first)).toBe(false);

    const started = worker.started;
    await minter.mint(req());
    expect(worker.started).toBe(started + 1);
    expect(worker.pid).not.toBe(first);
  });

  it("a helper that dies mid-call fails that call as an UpstreamError; the next call starts a new one", async () => {
    const held = sandbox.hold("GetScopedCredentials");
    const minting = minter.mint(req()).catch((e: unknown) => e);
    await held.arrived;
    const pid = worker.pid!;
    const before = exits.length;
    process.kill(pid, "SIGKILL");
    const err = await minting;
    expect(err).toBeInstanceOf(UpstreamError);
    expect((err as Error).message).toBe("AWS call failed: the AWS helper process ended by SIGKILL");
    await exited(before + 1);
    expect(exits.at(-1)).toEqual({ pid, expected: false });
    held.release();
    expect((await minter.mint(req())).accessKeyId).toMatch(/^ASIA/);
    expect(worker.pid).not.toBe(pid);
  });

  it("close ends the helper: a call under way fails, later calls are refused without starting one", async () => {
    const other = new AwsWorker({ clock, timers });
    const held = sandbox.hold("GetScopedCredentials");
    const minting = new WorkerMinter(other).mint(req()).catch((e: unknown) => e);
    await held.arrived;
    const pid = other.pid!;
    await other.close();
    expect(alive(pid)).toBe(false);
    expect(await minting).toBeInstanceOf(UpstreamError);
    held.release();
    await expect(new WorkerMinter(other).mint(req())).rejects.toBeInstanceOf(UpstreamError);
    expect(other.started).toBe(1);
  });
});

describe("the daemon's AWS helper (built daemon, sandbox AWS)", () => {
  let s: Stack;
  beforeAll(async () => {
    s = await startStack();
  });
  afterAll(async () => s?.close());

  it("a helper process serves the daemon's login and mint, is replaced if it dies, and ends with the daemon", async () => {
    const daemon = s.daemon!.pid!;
    expect(helpersOf(daemon)).toEqual([]);
    expect((await s.cli(["login", "--no-browser"])).code).toBe(0);
    expect((await s.cli(["grant", "audit", "--for", "30m", "--reason", "helper test"])).code).toBe(0);
    const creds = await s.cli(["credential-process", "audit"]);
    expect(creds.code).toBe(0);
    expect(JSON.parse(creds.stdout)).toMatchObject({ Version: 1 });
    const [first] = helpersOf(daemon);
    expect(first).toBeDefined();

    // A helper that dies on its own is named in the daemon's log (stderr: the journal under systemd);
    // the cached session is still served, and the next mint starts a new helper.
    process.kill(first!, "SIGKILL");
    while (!s.daemonLog().includes(`the AWS helper process (pid ${first}) ended by SIGKILL`)) await tick(10);
    expect((await s.cli(["credential-process", "audit"])).code).toBe(0);
    expect((await s.cli(["revoke", "audit"])).code).toBe(0);
    expect((await s.cli(["grant", "audit", "--for", "30m", "--reason", "helper test"])).code).toBe(0);
    expect((await s.cli(["credential-process", "audit"])).code).toBe(0);
    const [helper] = helpersOf(daemon);
    expect(helper).toBeDefined();
    expect(helper).not.toBe(first);

    expect(await s.stopDaemon("SIGTERM")).toBe(0);
    expect(alive(helper!)).toBe(false);
    // Ended on purpose: no line for it.
    expect(s.daemonLog()).not.toContain(`(pid ${helper})`);
  });

  it("a daemon killed outright leaves no helper running: the closed pipe ends it", async () => {
    await s.stopDaemon("SIGTERM"); // the test above stops it; if it failed first, its daemon must not fail this one too
    await s.startDaemon();
    const daemon = s.daemon!.pid!;
    expect((await s.cli(["login", "--no-browser"])).code).toBe(0);
    expect((await s.cli(["credential-process", "audit"])).code).toBe(0);
    const [helper] = helpersOf(daemon);
    expect(helper).toBeDefined();
    await s.stopDaemon("SIGKILL");
    // Gone, or exited and waiting for init to reap it (a zombie runs nothing).
    while (running(helper!)) await tick(10);
  });
});

function running(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z";
  } catch {
    return false;
  }
}
