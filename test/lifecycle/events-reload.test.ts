import { afterAll, beforeAll, describe, expect, it } from "vitest";
import path from "node:path";
import { readFileSync, writeFileSync } from "node:fs";
import { startStack, type Stack } from "../helpers/stack.js";
import { waitForOutput } from "../helpers/wait.js";
import { controlPost, socketOf, subscribe, waitFor } from "./control.js";

/** Resolves when the daemon writes `words` from now on (its log line, as it comes). */
function daemonSays(stack: Stack, words: string): Promise<true> {
  const d = stack.daemon!;
  return waitForOutput([d.stdout!, d.stderr!], (text) => text.includes(words), `the daemon saying "${words}"`, { exited: d });
}

describe("daemon life: events for trays, SIGHUP reload, graceful stop", () => {
  let stack: Stack;
  let socket: string;
  beforeAll(async () => {
    stack = await startStack();
    socket = socketOf(stack.env);
    expect((await stack.cli(["login", "--no-browser"])).code).toBe(0);
  });
  afterAll(async () => {
    await stack?.close();
  });

  it("a tray subscribed to /v1/events hears window-opened for `s3jit grant`, then minted", async () => {
    const sub = subscribe(socket);
    await sub.ready;
    const cli = stack.cli(["grant", "audit", "--for", "20m", "--reason", "events"]);
    const opened = await sub.next("window-opened", (e) => e.type === "window-opened");
    expect((await cli).code).toBe(0);
    expect(opened.profile).toBe("audit");
    await sub.next("minted", (e) => e.type === "minted");
    expect((await stack.cli(["revoke", "audit"])).code).toBe(0);
    await sub.next("window-closed", (e) => e.type === "window-closed");

    // The grant itself (what `s3jit grant` sends): its event names the window the answer names.
    // Pushed, not polled: the stream is the daemon's only way to tell; no duration is asserted.
    const granted = await controlPost(socket, "/v1/grant", { profile: "audit", for: "20m", reason: "events, second" });
    expect(granted.status).toBe(200);
    const second = await sub.next("the second window-opened", (e) => e.type === "window-opened" && e !== opened);
    expect(second.end).toBe(Date.parse(String((granted.body as { end: string }).end)));
    expect((await stack.cli(["revoke", "audit"])).code).toBe(0);
    sub.close();
  });

  it("announces window-closing five minutes before the window's end (one timer, no polling)", async () => {
    const sub = subscribe(socket);
    await sub.ready;
    expect((await stack.cli(["grant", "audit", "--for", "5m2s", "--reason", "closing soon"])).code).toBe(0);
    const closing = await sub.next("window-closing", (e) => e.type === "window-closing");
    expect(closing.profile).toBe("audit");
    // Not early: heard no sooner than five minutes before the end (a slow machine hears it later,
    // which this allows; the test's timeout bounds late).
    expect(Number(closing.end) - Date.now()).toBeLessThanOrEqual(5 * 60_000);
    sub.close();
    expect((await stack.cli(["revoke", "audit"])).code).toBe(0);
  });

  it("SIGHUP reloads the config: the next mint carries the new scope", async () => {
    writeFileSync(stack.configFile, readFileSync(stack.configFile, "utf8").replace(`scope = ["audit-logs/2026/", "reports"]`, `scope = ["audit-logs/2026/"]`));
    const reloaded = daemonSays(stack, "reloaded");
    stack.daemon!.kill("SIGHUP");
    await reloaded;
    const before = stack.sandbox.count("GetScopedCredentials");
    expect((await stack.cli(["grant", "audit", "--for", "20m", "--reason", "after reload"])).code).toBe(0);
    await waitFor("a new mint", () => stack.sandbox.count("GetScopedCredentials") > before);
    const last = stack.sandbox.requests.filter((r) => r.action === "GetScopedCredentials").at(-1)!;
    expect(String(last.params.Policy)).not.toContain("reports");
    expect(String(last.params.Policy)).toContain("audit-logs/2026/");
  });

  it("SIGHUP with a broken config keeps the old one, keeps serving, and says why", async () => {
    const good = readFileSync(stack.configFile, "utf8");
    writeFileSync(stack.configFile, good + "\n[profile.broken]\nscope = [\"*\"]\n");
    const refused = daemonSays(stack, "kept the running config");
    stack.daemon!.kill("SIGHUP");
    await refused;
    expect(stack.daemonLog()).toContain("profile.broken");
    const env = await stack.clientEnv("audit");
    const res = await fetch(env.AWS_CONTAINER_CREDENTIALS_FULL_URI!, { headers: { authorization: env.AWS_CONTAINER_AUTHORIZATION_TOKEN! } });
    expect(res.status).toBe(200);
    writeFileSync(stack.configFile, good);
  });

  it("SIGTERM: exit 0, and the audit log ends with a stop event", async () => {
    expect(await stack.stopDaemon("SIGTERM")).toBe(0);
    const log = readFileSync(path.join(stack.env.XDG_STATE_HOME!, "s3jit", "audit.log"), "utf8").trim().split("\n");
    const lines = log.map((l) => JSON.parse(l) as { event: string });
    expect(lines.at(-1)!.event).toBe("stop");
    expect(lines.some((l) => l.event === "grant")).toBe(true);
    expect(lines.some((l) => l.event === "mint")).toBe(true);
  });
});
