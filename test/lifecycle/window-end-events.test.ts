import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startStack, type Stack } from "../helpers/stack.js";
import { auditEvents, socketOf, subscribe, waitFor } from "./control.js";

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
    const opened = await waitFor("window-opened", () => sub.events.find((e) => e.type === "window-opened"));
    const login = await waitFor("login-required", () => sub.events.find((e) => e.type === "login-required"));
    expect(login.sso).toBe("corp");
    const closed = await waitFor("window-closed", () => sub.events.find((e) => e.type === "window-closed"));
    expect(closed.profile).toBe("audit");
    expect(closed.at).toBeGreaterThanOrEqual(Number(opened.end));
    expect(sub.events.some((e) => e.type === "minted")).toBe(false);
    sub.close();
  });

  it("with a session: the window's timer and the session's both see the end, the tray and the audit log hear it once", async () => {
    expect((await stack.cli(["login", "--no-browser"])).code).toBe(0);
    const sub = subscribe(socketOf(stack.env));
    await sub.ready;
    expect((await stack.cli(["grant", "audit", "--for", "4s", "--reason", "short"])).code).toBe(0);
    await waitFor("minted", () => sub.events.find((e) => e.type === "minted"));
    await waitFor("window-closed", () => sub.events.find((e) => e.type === "window-closed"));
    await new Promise((r) => setTimeout(r, 1000));
    expect(sub.events.filter((e) => e.type === "window-closed")).toHaveLength(1);
    sub.close();
    const events = auditEvents(stack.env);
    const sinceGrant = events.slice(events.map((e) => e.event).lastIndexOf("grant"));
    expect(sinceGrant.filter((e) => e.event === "expire" && e.profile === "audit")).toHaveLength(1);
  });
});
