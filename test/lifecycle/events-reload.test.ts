import { afterAll, beforeAll, describe, expect, it } from "vitest";
import path from "node:path";
import { readFileSync, writeFileSync } from "node:fs";
import { startStack, type Stack } from "../helpers/stack.js";
import { controlPost, socketOf, subscribe, waitFor } from "./control.js";

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

  it("a tray subscribed to /v1/events hears window-opened within a second of `s3jit grant`, then minted", async () => {
    const sub = subscribe(socket);
    await sub.ready;
    const before = Date.now();
    const cli = stack.cli(["grant", "audit", "--for", "20m", "--reason", "events"]);
    const opened = await waitFor("window-opened", () => sub.events.find((e) => e.type === "window-opened"));
    expect((await cli).code).toBe(0);
    // Measured from the grant command's start, which includes starting a node process for the CLI.
    expect(opened.at - before).toBeLessThan(5000);
    expect(opened.profile).toBe("audit");
    await waitFor("minted", () => sub.events.find((e) => e.type === "minted"));
    expect((await stack.cli(["revoke", "audit"])).code).toBe(0);
    await waitFor("window-closed", () => sub.events.find((e) => e.type === "window-closed"));

    // The grant itself (what `s3jit grant` sends, without starting a node process): the event
    // follows within a second. Typically a few milliseconds; a second is slack for a loaded CI.
    const sent = Date.now();
    const granted = await controlPost(socket, "/v1/grant", { profile: "audit", for: "20m", reason: "events, timed" });
    expect(granted.status).toBe(200);
    const second = await waitFor("the second window-opened", () => sub.events.filter((e) => e.type === "window-opened")[1]);
    expect(second.at - sent).toBeLessThan(1000);
    expect(second.end).toBe(Date.parse(String((granted.body as { end: string }).end)));
    expect((await stack.cli(["revoke", "audit"])).code).toBe(0);
    sub.close();
  });

  it("announces window-closing five minutes before the window's end (one timer, no polling)", async () => {
    const sub = subscribe(socket);
    await sub.ready;
    expect((await stack.cli(["grant", "audit", "--for", "5m2s", "--reason", "closing soon"])).code).toBe(0);
    const closing = await waitFor("window-closing", () => sub.events.find((e) => e.type === "window-closing"), 20_000);
    expect(closing.profile).toBe("audit");
    expect(Number(closing.end) - Date.now()).toBeLessThanOrEqual(5 * 60_000);
    sub.close();
    expect((await stack.cli(["revoke", "audit"])).code).toBe(0);
  });

  it("SIGHUP reloads the config: the next mint carries the new scope", async () => {
    writeFileSync(stack.configFile, readFileSync(stack.configFile, "utf8").replace(`scope = ["audit-logs/2026/", "reports"]`, `scope = ["audit-logs/2026/"]`));
    stack.daemon!.kill("SIGHUP");
    await waitFor("reload log line", () => stack.daemonLog().includes("reloaded"));
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
    stack.daemon!.kill("SIGHUP");
    await waitFor("refusal log line", () => stack.daemonLog().includes("kept the running config"));
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
