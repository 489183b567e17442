import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startStack, type Stack } from "../helpers/stack.js";
import path from "node:path";
import { waitForLine } from "../helpers/wait.js";
import { auditEvents, controlPost, socketOf, subscribe } from "./control.js";

const auditFile = (env: NodeJS.ProcessEnv) => path.join(env.XDG_STATE_HOME!, "s3jit", "audit.log");

describe("a tray hears a window's end without polling", () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack();
  });
  afterAll(async () => {
    await stack?.close();
  });

  it("before any login: login-required, then window-closed at the end although nothing was minted", async () => {
    const sub = subscribe(socketOf(stack.env));
    await sub.ready;
    expect((await stack.cli(["grant", "audit", "--for", "3s", "--reason", "no login yet"])).code).toBe(0);
    const opened = await sub.next("window-opened", (e) => e.type === "window-opened");
    const login = await sub.next("login-required", (e) => e.type === "login-required");
    expect(login.sso).toBe("corp");
    const closed = await sub.next("window-closed", (e) => e.type === "window-closed");
    expect(closed.profile).toBe("audit");
    // Not early: heard at or after the end (a slow machine hears it later, which this allows).
    expect(closed.at).toBeGreaterThanOrEqual(Number(opened.end));
    expect(sub.events.some((e) => e.type === "minted")).toBe(false);
    sub.close();
  });

  it("with a session: the window's timer and the session's both see the end, the tray and the audit log hear it once", async () => {
    expect((await stack.cli(["login", "--no-browser"])).code).toBe(0);
    const sub = subscribe(socketOf(stack.env));
    await sub.ready;
    expect((await stack.cli(["grant", "audit", "--for", "4s", "--reason", "short"])).code).toBe(0);
    await sub.next("minted", (e) => e.type === "minted");
    await sub.next("window-closed", (e) => e.type === "window-closed");
    // A later event marks the end of what the window's end caused: the stream and the audit log
    // keep their order, so a second close would come before the marker (both timers are due at
    // the end at the latest; no pause guesses how long they take).
    const marker = await controlPost(socketOf(stack.env), "/v1/grant", { profile: "audit", for: "20m", reason: "marker" });
    expect(marker.status).toBe(200);
    const reopened = await sub.next("the marker's window-opened", (e, i) => e.type === "window-opened" && i > sub.events.findIndex((c) => c.type === "window-closed"));
    const beforeMarker = sub.events.slice(0, sub.events.indexOf(reopened));
    expect(beforeMarker.filter((e) => e.type === "window-closed")).toHaveLength(1);
    sub.close();
    await waitForLine(auditFile(stack.env), /"event":"grant".*"reason":"marker"/);
    const events = auditEvents(stack.env);
    const grants = events.flatMap((e, i) => (e.event === "grant" ? [i] : []));
    const between = events.slice(grants.at(-2), grants.at(-1));
    expect(between.filter((e) => e.event === "expire" && e.profile === "audit")).toHaveLength(1);
    expect((await stack.cli(["revoke", "audit"])).code).toBe(0);
  });
});
