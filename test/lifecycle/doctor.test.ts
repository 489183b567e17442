import { afterAll, beforeAll, describe, expect, it } from "vitest";
import http from "node:http";
import type { AddressInfo } from "node:net";
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

  it("a clock ten minutes off STS's fails with the fix", async () => {
    // Stands in for STS at the network boundary: any answer carries the server's Date.
    const sts = http.createServer((_req, res) => {
      res.sendDate = false;
      res.writeHead(403, { date: new Date(Date.now() + 10 * 60_000).toUTCString(), "content-type": "text/xml" });
      res.end("<ErrorResponse/>");
    });
    await new Promise<void>((r) => sts.listen(0, "127.0.0.1", r));
    try {
      const r = await stack.cli(["doctor"], { env: { AWS_ENDPOINT_URL_STS: `http://127.0.0.1:${(sts.address() as AddressInfo).port}/` } });
      expect(r.code).toBe(1);
      expect(r.stdout).toMatch(/FAIL clock: -?(59\d|600|60\d) s against 127\.0\.0\.1:\d+\n\s+fix: turn on time synchronisation/);
    } finally {
      sts.close();
    }
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
