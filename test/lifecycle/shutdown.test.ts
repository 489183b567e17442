import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startStack, type Stack } from "../helpers/stack.js";
import { AUDIT, profileToml } from "../helpers/config.js";
import { auditEvents, socketOf, subscribe } from "./control.js";

describe("graceful stop", () => {
  /** One mint and a revoke first: the daemon loads the AWS SDK at its first mint, which takes a while. */
  async function warmUp(sub: ReturnType<typeof subscribe>): Promise<void> {
    expect((await stack.cli(["grant", "audit", "--for", "10m", "--reason", "warm up"])).code).toBe(0);
    await sub.next("the warm-up mint", (e) => e.type === "minted");
    expect((await stack.cli(["revoke", "audit"])).code).toBe(0);
    sub.events.length = 0;
  }

  let stack: Stack;
  beforeAll(async () => {
    // on-demand: the request itself opens the window and starts the mint that STS holds.
    stack = await startStack({ profileToml: profileToml("audit", { ...AUDIT, grant: "on-demand" }) });
    expect((await stack.cli(["login", "--no-browser"])).code).toBe(0);
  });
  afterAll(async () => {
    await stack?.close();
  });

  it("SIGTERM while a request waits on a mint: the request is answered 200, the daemon exits 0, the audit log ends with stop", async () => {
    const env = await stack.clientEnv("audit");
    const sub = subscribe(socketOf(stack.env));
    await sub.ready;
    await warmUp(sub);
    // STS holds its answer: the request is waiting on the mint when SIGTERM is sent, and STS
    // answers right after (within the 800 ms a request may wait, with no pause in between).
    const held = stack.sandbox.hold("GetScopedCredentials");
    let killed = false;
    const answer = fetch(env.AWS_CONTAINER_CREDENTIALS_FULL_URI!, { headers: { authorization: env.AWS_CONTAINER_AUTHORIZATION_TOKEN! } }).then(async (res) => ({
      status: res.status,
      body: (await res.json()) as Record<string, string>,
      afterKill: killed,
    }));
    await held.arrived;
    // A tray is still subscribed: its stream must not hold the daemon up.
    const exited = stack.stopDaemon("SIGTERM");
    killed = true;
    held.release();

    const a = await answer;
    expect(a.afterKill).toBe(true);
    expect(a.status, JSON.stringify(a.body)).toBe(200);
    expect(a.body.AccessKeyId).toMatch(/^ASIA/);
    expect(await exited).toBe(0);
    // The tray's stream was ended by the daemon, not cut after the shutdown grace period.
    expect(await sub.ended).toBe(true);

    const events = auditEvents(stack.env);
    expect(events.at(-1)!.event).toBe("stop");
    const serve = events.findIndex((e) => e.event === "serve" && e.accessKeyId === a.body.AccessKeyId);
    expect(serve).toBeGreaterThanOrEqual(0);
    expect(serve).toBeLessThan(events.length - 1);
  });

  it("SIGTERM while `s3jit credential-process` waits on the control socket: it still gets its credentials", async () => {
    await stack.startDaemon();
    // keychain = "memory": the login went with the daemon.
    expect((await stack.cli(["login", "--no-browser"])).code).toBe(0);
    const sub = subscribe(socketOf(stack.env));
    await sub.ready;
    await warmUp(sub);
    const held = stack.sandbox.hold("GetScopedCredentials");
    const cli = stack.cli(["credential-process", "audit"]);
    // The mint is at STS: the request is in the daemon, waiting on it.
    await held.arrived;
    const exited = stack.stopDaemon("SIGTERM");
    held.release();
    const r = await cli;
    expect(r.code, r.stderr).toBe(0);
    expect((JSON.parse(r.stdout) as { Version: number; AccessKeyId: string }).AccessKeyId).toMatch(/^ASIA/);
    expect(await exited).toBe(0);
    sub.close();
    expect(auditEvents(stack.env).at(-1)!.event).toBe("stop");
  });
});
