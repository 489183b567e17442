import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import path from "node:path";
import plist from "plist";
import { describe, expect, it } from "vitest";
import { cliPath, serviceContext } from "./install.js";
import { launchd } from "./launchd.js";
import { systemd } from "./systemd.js";
import { fill, shellLine, systemdWord, xmlEscape } from "./template.js";
import { requires } from "../../test/helpers/requires.js";
import { pathsUnder, recordingRunner, tempHome } from "../../test/helpers/service.js";

const systemdAnalyze = await requires("systemd-analyze");

const ctxFor = (home: string, over: { node?: string; cli?: string } = {}) =>
  serviceContext({ dryRun: true, home, run: recordingRunner(), paths: pathsUnder(home), uid: 501, ...over });

describe("escaping", () => {
  it.each([
    ["/usr/bin/node", false, '"/usr/bin/node"'],
    ["/a b/c", false, '"/a b/c"'],
    ["/100%/x", false, '"/100%%/x"'],
    ["/$HOME/x", true, '"/$$HOME/x"'],
    ["/$HOME/x", false, '"/$HOME/x"'],
    ['/q"uote\\back', true, '"/q\\"uote\\\\back"'],
  ])("systemdWord(%j, commandLine=%s) = %s", (input, commandLine, expected) => {
    expect(systemdWord(input, { commandLine })).toBe(expected);
  });

  it.each([
    ["a&b", "a&amp;b"],
    ["<x>", "&lt;x&gt;"],
    [`"it's"`, "&quot;it&apos;s&quot;"],
  ])("xmlEscape(%j) = %j", (input, expected) => expect(xmlEscape(input)).toBe(expected));

  it("refuses control characters instead of writing a broken file", () => {
    expect(() => systemdWord("/a\nExecStartPre=/bin/evil", { commandLine: true })).toThrow(/control character/);
    expect(() => xmlEscape("/a\u0001")).toThrow(/control character/);
  });

  it("fill refuses a missing value and an unused one", () => {
    expect(() => fill("{{A}} {{B}}", { A: "1" })).toThrow(/\{\{B\}\}/);
    expect(() => fill("{{A}}", { A: "1", C: "2" })).toThrow(/C/);
  });

  it("shellLine quotes only what needs it", () => {
    expect(shellLine(["systemctl", "--user", "enable", "--now", "s3jit.service"])).toBe("systemctl --user enable --now s3jit.service");
    expect(shellLine(["rm", "-f", "/a b/it's"])).toBe(`rm -f '/a b/it'\\''s'`);
  });
});

describe("systemd unit", () => {
  it("names node, the CLI and the config, quoted, with specifiers and variables escaped", () => {
    const home = tempHome();
    const unit = systemd.render(ctxFor(home, { node: "/opt/node 20/bin/node", cli: "/opt/s3 jit/$x/bin/s3jit.js" }));
    const config = path.join(home, ".config", "s3jit", "config.toml").replace(/%/g, "%%");
    expect(unit).toContain(`ExecStart="/opt/node 20/bin/node" --max-semi-space-size=1 --optimize-for-size --no-allocation-site-pretenuring --v8-pool-size=1 --no-memory-reducer --compact-on-every-full-gc --expose-gc "/opt/s3 jit/$$x/bin/s3jit.js" daemon --config "${config}"`);
    const dataDir = path.join(home, ".local", "share", "s3jit").replace(/%/g, "%%");
    const logDir = path.join(home, ".local", "state", "s3jit").replace(/%/g, "%%");
    expect(unit).toContain(`ReadWritePaths="${dataDir}" "${logDir}"`);
    expect(unit).toContain(`"XDG_DATA_HOME=${path.dirname(dataDir)}"`);
    for (const line of ["Type=simple", "Restart=on-failure", "NoNewPrivileges=yes", "PrivateTmp=yes", "ProtectSystem=strict", "UMask=0077", "WantedBy=default.target"]) {
      expect(unit.split("\n")).toContain(line);
    }
    // ProtectHome= would hide the config; MemoryDenyWriteExecute= breaks V8's JIT.
    expect(unit).not.toMatch(/\{\{|^ProtectHome=|^MemoryDenyWriteExecute=/m);
  });

  // `--user` verification needs a runtime folder (the user manager's XDG_RUNTIME_DIR); one made
  // for the test is enough, no running user manager is needed. It exits 0 even for unknown or
  // unparsable settings, so the test also requires that it says nothing about the unit.
  systemdAnalyze.describe("systemd-analyze verify --user", () => {
    function verify(unitText: string, home: string) {
      const dir = path.join(home, "..", "verify");
      const runtime = path.join(home, "..", "runtime");
      mkdirSync(dir, { recursive: true });
      mkdirSync(runtime, { recursive: true, mode: 0o700 });
      chmodSync(runtime, 0o700);
      const file = path.join(dir, "s3jit.service");
      writeFileSync(file, unitText);
      const r = spawnSync("systemd-analyze", ["verify", "--user", file], { encoding: "utf8", env: { ...process.env, XDG_RUNTIME_DIR: runtime, SYSTEMD_LOG_COLOR: "0" } });
      const complaints = `${r.stdout}\n${r.stderr}`.split("\n").filter((l) => l.includes("s3jit.service") || l.includes("ailed"));
      return { status: r.status, complaints };
    }

    it("passes systemd-analyze verify --user with the real node and CLI", () => {
      const home = tempHome();
      expect(existsSync(cliPath())).toBe(true);
      const result = verify(systemd.render(ctxFor(home)), home);
      expect(result).toEqual({ status: 0, complaints: [] });
    });

    it("passes verify with node and the CLI under paths with spaces and %", () => {
      const home = tempHome();
      const bin = path.join(home, "..", "node 100% here");
      mkdirSync(bin, { recursive: true });
      symlinkSync(process.execPath, path.join(bin, "node"));
      const result = verify(systemd.render(ctxFor(home, { node: path.join(bin, "node") })), home);
      expect(result).toEqual({ status: 0, complaints: [] });
    });

    it("verification catches a broken unit (so the checks above can fail)", () => {
      const home = tempHome();
      const broken = systemd.render(ctxFor(home)).replace("Restart=on-failure", "Restart=sometimes");
      expect(verify(broken, home).complaints.join("\n")).toMatch(/Restart|restart/);
      const missingNode = systemd.render(ctxFor(home, { node: "/nonexistent/node" }));
      expect(verify(missingNode, home).status).not.toBe(0);
    });
  });
});

describe("launchd plist", () => {
  it("parses as a plist with the expected keys and exact values, paths with spaces and XML characters intact", () => {
    const home = tempHome();
    const ctx = ctxFor(home, { node: "/opt/node & co/bin/node", cli: "/Users/me/My <Tools>/s3jit/bin/s3jit.js" });
    const parsed = plist.parse(launchd.render(ctx)) as Record<string, unknown>;
    const log = path.join(home, ".local", "state", "s3jit", "daemon.log");
    expect(parsed).toEqual({
      Label: "dev.s3jit.daemon",
      ProgramArguments: ["/opt/node & co/bin/node", "--max-semi-space-size=1", "--optimize-for-size", "--no-allocation-site-pretenuring", "--v8-pool-size=1", "--no-memory-reducer", "--compact-on-every-full-gc", "--expose-gc", "/Users/me/My <Tools>/s3jit/bin/s3jit.js", "daemon", "--config", path.join(home, ".config", "s3jit", "config.toml")],
      RunAtLoad: true,
      KeepAlive: { SuccessfulExit: false },
      ThrottleInterval: 10,
      ProcessType: "Background",
      Umask: 0o077,
      StandardOutPath: log,
      StandardErrorPath: log,
      EnvironmentVariables: { PATH: "/opt/node & co/bin:/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin" },
    });
  });

  it("goes to ~/Library/LaunchAgents under the given home", () => {
    expect(launchd.targetPath("/Users/a b")).toBe("/Users/a b/Library/LaunchAgents/dev.s3jit.daemon.plist");
    expect(systemd.targetPath("/home/a b")).toBe("/home/a b/.config/systemd/user/s3jit.service");
  });
});

describe("the daemon's V8 flags", () => {
  const root = path.resolve(import.meta.dirname, "../..");
  const launcher = readFileSync(path.join(root, "bin", "s3jit.js"), "utf8");
  // The array literal as JSON (a trailing comma dropped).
  const fromLauncher = JSON.parse(/const DAEMON_FLAGS = (\[[^\]]*\]);/.exec(launcher)![1]!.replace(/,(\s*\])$/, "$1")) as string[];

  it("are the same in the launcher's re-exec, the systemd unit and the launchd plist", () => {
    const home = tempHome();
    const unit = systemd.render(ctxFor(home, { node: "/usr/bin/node", cli: "/opt/s3jit/bin/s3jit.js" }));
    const execStart = /^ExecStart="\/usr\/bin\/node" (.*?) "\/opt\/s3jit\/bin\/s3jit.js"/m.exec(unit)![1]!.split(" ");
    const args = (plist.parse(launchd.render(ctxFor(home, { node: "/usr/bin/node", cli: "/opt/s3jit/bin/s3jit.js" }))) as { ProgramArguments: string[] }).ProgramArguments;
    expect(fromLauncher).toContain("--no-allocation-site-pretenuring");
    // The memory reducer's place is taken by daemon/memory.ts, which needs `gc`.
    expect(fromLauncher).toEqual(expect.arrayContaining(["--no-memory-reducer", "--compact-on-every-full-gc", "--expose-gc"]));
    expect(execStart).toEqual(fromLauncher);
    expect(args.slice(1, args.indexOf("/opt/s3jit/bin/s3jit.js"))).toEqual(fromLauncher);
  });

  it("are all known to this Node (an unknown one stops node before the daemon starts)", () => {
    const r = spawnSync(process.execPath, [...fromLauncher, "-e", "process.stdout.write(typeof gc)"], { encoding: "utf8" });
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect(r.stdout).toBe("function");
  });
});
