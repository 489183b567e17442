import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startStack, type Stack } from "../helpers/stack.js";

describe("s3jit doctor", () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack();
  });
  afterAll(async () => {
    await stack?.close();
  });

  it("before login: every check runs, the login check fails with its fix, exit 1", async () => {
    const r = await stack.cli(["doctor"]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/ok\s+config: .*config\.toml: 1 profile/);
    expect(r.stdout).toMatch(/ok\s+daemon: running, pid \d+/);
    expect(r.stdout).toMatch(/FAIL login corp: .*\n\s+fix: s3jit login corp/);
    expect(r.stdout).toMatch(/ok\s+endpoint audit: .*WindowClosed/);
    expect(r.stdout).toMatch(/ok\s+clock: -?\d+ s against 127\.0\.0\.1/);
  });

  it("after login: all green, exit 0; --json lists the checks", async () => {
    expect((await stack.cli(["login", "--no-browser"])).code).toBe(0);
    const r = await stack.cli(["doctor", "--json"]);
    expect(r.code, r.stdout).toBe(0);
    const out = JSON.parse(r.stdout) as { ok: boolean; checks: Array<{ name: string; ok: boolean }> };
    expect(out.ok).toBe(true);
    expect(out.checks.map((c) => c.name)).toEqual(["config", "keychain", "daemon", "login corp", "endpoint audit", "clock"]);
  });

  it("with no daemon: says how to start it", async () => {
    await stack.stopDaemon();
    const r = await stack.cli(["doctor"]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/FAIL daemon: .*not running[^\n]*\n\s+fix: start it: `s3jit daemon`/);
    await stack.startDaemon();
  });

  it("a broken config and an unusable keychain each say what to do", async () => {
    const broken = await startStack({ startDaemon: false, keychain: "os", extraToml: "\n[profile.x]\nwindow = \"forever\"\n" });
    try {
      let r = await broken.cli(["doctor"], { env: { DBUS_SESSION_BUS_ADDRESS: "unix:path=/nonexistent/bus" } });
      expect(r.code).toBe(1);
      expect(r.stdout).toMatch(/FAIL config: .*profile\.x/);
      const { readFileSync, writeFileSync } = await import("node:fs");
      writeFileSync(broken.configFile, readFileSync(broken.configFile, "utf8").replace(/\n\[profile\.x\][^]*$/, "\n"));
      r = await broken.cli(["doctor"], { env: { DBUS_SESSION_BUS_ADDRESS: "unix:path=/nonexistent/bus" } });
      expect(r.stdout).toMatch(/FAIL keychain: .*\n\s+fix: start or unlock your keyring, or set keychain = "memory"/);
    } finally {
      await broken.close();
    }
  });
});
