import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readFileSync, writeFileSync, statSync } from "node:fs";
import path from "node:path";
import { pastInstant } from "./helpers/wait.js";
import { startStack, type Stack } from "./helpers/stack.js";
import { profileToml } from "./helpers/config.js";

const status = async (stack: Stack) => JSON.parse((await stack.cli(["status", "--json"])).stdout) as {
  daemon: { warnings: string[] };
  profiles: Record<string, { window: { end: string; reason: string } | null }>;
};

const SHORT = profileToml("short", { scope: ["reports"], window: "2s", max_window: "1h" });

describe("windows across daemon restarts", () => {
  let stack: Stack;
  let stateFile: string;
  beforeAll(async () => {
    stack = await startStack({ extraToml: SHORT });
    stateFile = path.join(stack.env.XDG_DATA_HOME!, "s3jit", "state.json");
  });
  afterAll(async () => {
    await stack?.close();
  });

  it("an open window survives SIGKILL + restart with the same end: never extended", async () => {
    expect((await stack.cli(["grant", "audit", "--for", "20m", "--reason", "restart"])).code).toBe(0);
    const before = (await status(stack)).profiles.audit!.window!;
    expect(statSync(stateFile).mode & 0o777).toBe(0o600);
    await stack.stopDaemon("SIGKILL");
    await stack.startDaemon();
    const after = (await status(stack)).profiles.audit!.window!;
    expect(after.end).toBe(before.end);
    expect(after.reason).toBe("restart");
  });

  it("a window that ended while the daemon was down stays closed", async () => {
    const g = await stack.cli(["grant", "short", "--for", "2s", "--reason", "brief"]);
    expect(g.code).toBe(0);
    // The end from the grant's own answer: a status call after it may already find the 2 s window
    // closed on a loaded machine (seen under load).
    const end = Date.parse(/until (\S+)/.exec(g.stdout)?.[1] ?? "");
    expect(end).toBeGreaterThan(0);
    await stack.stopDaemon("SIGTERM");
    // Down until the window's own end has passed (the daemon's clock is this one): a lower bound
    // only, a loaded machine waits longer, never less.
    await pastInstant(end);
    await stack.startDaemon();
    expect((await status(stack)).profiles.short!.window).toBeNull();
    expect((await status(stack)).profiles.audit!.window).not.toBeNull();
  });

  it("a hand-edited state file (a later end) is refused: every window starts closed, and status says why", async () => {
    await stack.stopDaemon("SIGTERM");
    const text = readFileSync(stateFile, "utf8");
    const edited = text.replace(/"end":(\d+)/, (_, n: string) => `"end":${Number(n) + 8 * 3600_000}`);
    expect(edited).not.toBe(text);
    writeFileSync(stateFile, edited, { mode: 0o600 });
    await stack.startDaemon();
    const st = await status(stack);
    expect(st.profiles.audit!.window).toBeNull();
    expect(st.daemon.warnings.join(" ")).toMatch(/state file was refused/);
    expect(stack.daemonLog()).toMatch(/ignoring the window state file/);
    const human = await stack.cli(["status"]);
    expect(human.stdout).toContain("warning: the window state file was refused");
  });

  it("a torn (half-written) state file is refused the same way", async () => {
    expect((await stack.cli(["grant", "audit", "--for", "20m", "--reason", "again"])).code).toBe(0);
    await stack.stopDaemon("SIGKILL");
    const text = readFileSync(stateFile, "utf8");
    writeFileSync(stateFile, text.slice(0, Math.floor(text.length / 2)), { mode: 0o600 });
    await stack.startDaemon();
    expect((await status(stack)).profiles.audit!.window).toBeNull();
  });
});
