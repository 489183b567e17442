import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { describeSteps, install, processRunner, status, uninstall, type ServiceOptions } from "./install.js";
import { launchd } from "./launchd.js";
import { NoServiceSessionError, ServiceCommandError, UnsupportedPlatformError } from "./platform.js";
import { systemd } from "./systemd.js";
import { requires } from "../../test/helpers/requires.js";
import { pathsUnder, recordingRunner, tempHome } from "../../test/helpers/service.js";

const NODE = "/opt/node 20/bin/node";
const CLI = "/opt/s3jit/bin/s3jit.js";

function options(home: string, over: Partial<ServiceOptions> = {}): ServiceOptions {
  return { dryRun: false, home, run: recordingRunner(), paths: pathsUnder(home), uid: 501, node: NODE, cli: CLI, platform: "linux", ...over };
}

/** Every file below `dir` (folders alone do not count as something left behind). */
function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, encoding: "utf8" }).filter((f) => statSync(path.join(dir, f)).isFile());
}

const SYSTEMCTL_PROBE = ["systemctl", "--user", "show", "--property=Version"];

describe("systemd (Linux)", () => {
  it("--dry-run runs nothing, writes nothing, and lists the file and exact commands", async () => {
    const home = tempHome();
    const run = recordingRunner();
    const out = await install(options(home, { dryRun: true, run }));
    expect(run.calls).toEqual([]);
    expect(existsSync(home)).toBe(false);
    const file = path.join(home, ".config/systemd/user/s3jit.service");
    expect(out.file).toBe(file);
    expect(out.steps.filter((s) => s.kind === "run").map((s) => (s.kind === "run" ? s.argv : []))).toEqual([
      ["systemctl", "--user", "daemon-reload"],
      ["systemctl", "--user", "reset-failed", "s3jit.service"],
      ["systemctl", "--user", "enable", "--now", "s3jit.service"],
    ]);
    const script = describeSteps(out.steps);
    expect(script).toContain(`cat > '${file}' <<'S3JIT_EOF'\n# s3jit user unit`);
    expect(script).toContain("systemctl --user reset-failed s3jit.service || true\nsystemctl --user enable --now s3jit.service");
  });

  it("install → status → uninstall: exact commands, the unit appears, then nothing is left", async () => {
    const home = tempHome();
    const file = path.join(home, ".config/systemd/user/s3jit.service");
    const opts = options(home);

    const run1 = recordingRunner();
    const installed = await install({ ...opts, run: run1 });
    expect(installed.change).toBe("created");
    expect(run1.calls).toEqual([
      SYSTEMCTL_PROBE,
      ["systemctl", "--user", "daemon-reload"],
      ["systemctl", "--user", "reset-failed", "s3jit.service"],
      ["systemctl", "--user", "enable", "--now", "s3jit.service"],
    ]);
    expect(readFileSync(file, "utf8")).toBe(systemd.render({ node: NODE, cli: CLI, config: opts.paths!.configFile, paths: opts.paths!, home, uid: 501, path: "" }));
    expect(statSync(file).mode & 0o777).toBe(0o644);
    for (const dir of [opts.paths!.data, opts.paths!.log]) expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect(installed.warnings.join()).toMatch(/config\.toml does not exist yet/);

    const show = "LoadState=loaded\nActiveState=active\nSubState=running\nUnitFileState=enabled\nMainPID=4242\nExecMainStatus=0\nResult=success\n";
    const run2 = recordingRunner((argv) => (argv.includes("s3jit.service") ? { stdout: show } : undefined));
    const st = await status({ ...opts, run: run2 });
    expect(run2.calls).toEqual([SYSTEMCTL_PROBE, ["systemctl", "--user", "show", "s3jit.service", "--property=LoadState,ActiveState,SubState,UnitFileState,MainPID,ExecMainStatus,Result"]]);
    expect(st).toMatchObject({ installed: true, state: { enabled: true, running: true, pid: 4242, detail: "active (running)" } });

    const run3 = recordingRunner();
    const removed = await uninstall({ ...opts, run: run3 });
    expect(removed.change).toBe("removed");
    expect(run3.calls).toEqual([
      SYSTEMCTL_PROBE,
      ["systemctl", "--user", "disable", "--now", "s3jit.service"],
      ["systemctl", "--user", "daemon-reload"],
      ["systemctl", "--user", "reset-failed", "s3jit.service"],
    ]);
    expect(filesUnder(path.join(home, ".config/systemd"))).toEqual([]);

    const run4 = recordingRunner();
    expect((await uninstall({ ...opts, run: run4 })).change).toBe("absent");
    expect(run4.calls).toEqual([]);
  });

  it("is idempotent: the same file again does not restart the daemon; a changed one does", async () => {
    const home = tempHome();
    await install(options(home));
    const same = recordingRunner();
    const again = await install(options(home, { run: same }));
    expect(again.change).toBe("unchanged");
    expect(again.steps.some((s) => s.kind === "write")).toBe(false);
    expect(same.calls.at(-1)).toEqual(["systemctl", "--user", "enable", "--now", "s3jit.service"]);

    const changed = recordingRunner();
    const updated = await install(options(home, { run: changed, node: "/usr/bin/node" }));
    expect(updated.change).toBe("updated");
    expect(changed.calls.slice(-2)).toEqual([
      ["systemctl", "--user", "enable", "s3jit.service"],
      ["systemctl", "--user", "restart", "s3jit.service"],
    ]);
    expect(readFileSync(updated.file, "utf8")).toContain('ExecStart="/usr/bin/node"');
  });

  it("without a systemd user session says so and what to do, and changes nothing", async () => {
    const home = tempHome();
    const run = recordingRunner(() => ({ code: 1, stderr: "Failed to connect to bus: No medium found\n" }));
    const err = await install(options(home, { run })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NoServiceSessionError);
    const message = (err as Error).message;
    expect(message).toContain("Failed to connect to bus: No medium found");
    expect(message).toContain("s3jit daemon");
    expect(message).toContain("loginctl enable-linger");
    expect(run.calls).toEqual([SYSTEMCTL_PROBE]);
    expect(existsSync(home)).toBe(false);
  });

  it("a failing command stops the install and names the command and systemctl's words", async () => {
    const home = tempHome();
    const run = recordingRunner((argv) => (argv[2] === "enable" ? { code: 1, stderr: "Failed to enable unit: Unit file s3jit.service is masked." } : undefined));
    const err = await install(options(home, { run })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ServiceCommandError);
    expect((err as Error).message).toBe("`systemctl --user enable --now s3jit.service` failed (exit 1): Failed to enable unit: Unit file s3jit.service is masked.");
  });

  it("reads a failed unit's status", () => {
    const state = systemd.readStatus([
      { code: 0, stderr: "", stdout: "LoadState=loaded\nActiveState=failed\nSubState=failed\nUnitFileState=enabled\nMainPID=0\nExecMainStatus=1\nResult=exit-code\n" },
    ]);
    expect(state).toEqual({ enabled: true, running: false, pid: null, detail: "failed (failed), last result exit-code, exit status 1" });
  });
});

describe("launchd (macOS)", () => {
  const PROBE = ["launchctl", "print", "gui/501"];
  const JOB = ["launchctl", "print", "gui/501/dev.s3jit.daemon"];
  const mac = (home: string, over: Partial<ServiceOptions> = {}) => options(home, { platform: "darwin", ...over });

  it("install → reinstall → update → status → uninstall with the exact launchctl commands", async () => {
    const home = tempHome();
    const plistFile = path.join(home, "Library/LaunchAgents/dev.s3jit.daemon.plist");
    let loaded = false;
    const answer = (argv: readonly string[]) => {
      if (argv.join(" ") === JOB.join(" ")) return loaded ? { stdout: "\tstate = running\n\tpid = 777\n\tlast exit code = (never exited)\n" } : { code: 113, stderr: 'Could not find service "dev.s3jit.daemon" in domain for user gui: 501' };
      if (argv[1] === "bootstrap") loaded = true;
      if (argv[1] === "bootout") loaded = false;
      return undefined;
    };

    const first = recordingRunner(answer);
    await install(mac(home, { run: first }));
    expect(first.calls).toEqual([PROBE, JOB, ["launchctl", "bootstrap", "gui/501", plistFile]]);
    expect(readFileSync(plistFile, "utf8")).toContain("<string>/opt/node 20/bin/node</string>");

    const second = recordingRunner(answer);
    await install(mac(home, { run: second }));
    expect(second.calls).toEqual([PROBE, JOB, ["launchctl", "kickstart", "gui/501/dev.s3jit.daemon"]]);

    const third = recordingRunner(answer);
    await install(mac(home, { run: third, node: "/usr/local/bin/node" }));
    expect(third.calls).toEqual([PROBE, JOB, ["launchctl", "bootout", "gui/501/dev.s3jit.daemon"], ["launchctl", "bootstrap", "gui/501", plistFile]]);

    const st = await status(mac(home, { run: recordingRunner(answer) }));
    expect(st).toMatchObject({ platform: "launchd", installed: true, state: { running: true, pid: 777, detail: "running" } });

    const fourth = recordingRunner(answer);
    await uninstall(mac(home, { run: fourth }));
    expect(fourth.calls).toEqual([PROBE, ["launchctl", "bootout", "gui/501/dev.s3jit.daemon"]]);
    expect(filesUnder(path.join(home, "Library"))).toEqual([]);
  });

  it("uninstall of a plist that is not loaded still removes it", async () => {
    const home = tempHome();
    await install(mac(home, { run: recordingRunner((argv) => (argv.length === 3 && argv[2]!.includes("dev.s3jit") ? { code: 113 } : undefined)) }));
    const run = recordingRunner((argv) => (argv[1] === "bootout" ? { code: 3, stderr: "Boot-out failed: 3: No such process" } : undefined));
    expect((await uninstall(mac(home, { run }))).change).toBe("removed");
    expect(filesUnder(home)).toEqual([]);
  });

  it("without a GUI session says so and what to do", async () => {
    const home = tempHome();
    const run = recordingRunner(() => ({ code: 112, stderr: "Could not find domain for user gui: 501" }));
    const err = await install(mac(home, { run })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NoServiceSessionError);
    expect((err as Error).message).toMatch(/no GUI login session for uid 501.*Could not find domain.*ssh.*s3jit daemon/s);
    expect(existsSync(home)).toBe(false);
  });

  it("--dry-run lists mkdir, the plist and the bootstrap without asking launchctl", async () => {
    const home = tempHome();
    const run = recordingRunner();
    const out = await install(mac(home, { dryRun: true, run }));
    expect(run.calls).toEqual([]);
    expect(out.steps.map((s) => s.kind)).toEqual(["mkdir", "write", "run"]);
    expect(out.steps[2]).toEqual({ kind: "run", argv: ["launchctl", "bootstrap", "gui/501", launchd.targetPath(home)] });
  });
});

it("other platforms get a clear 'not supported'", async () => {
  const err = await install(options(tempHome(), { platform: "win32" })).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(UnsupportedPlatformError);
  expect((err as Error).message).toMatch(/macOS \(launchd\) and Linux \(systemd user units\), not win32/);
});

it("processRunner reports exit codes and a missing command without throwing", async () => {
  expect(await processRunner(["node", "-e", "process.stderr.write('x'); process.exit(3)"])).toMatchObject({ code: 3, stderr: "x" });
  expect(await processRunner(["s3jit-no-such-command"])).toMatchObject({ code: 127 });
});

// The user's own manager and ~/.config/systemd/user: a user manager cannot be pointed at a
// folder of the test's. So the test refuses to touch an s3jit unit that is already there.
const systemdUser = await requires("systemd-user");
systemdUser.describe("real systemctl --user (your own user manager)", () => {
  it("install → status → uninstall", async () => {
    const opts: ServiceOptions = { dryRun: false, home: process.env.HOME!, run: processRunner };
    const existing = systemd.targetPath(opts.home);
    if (existsSync(existing)) throw new Error(`${existing} is there already: this test would replace and then remove your own s3jit service; opt out with S3JIT_TEST_WITHOUT=systemd-user`);
    const done = await install(opts);
    try {
      expect(done.file).toBe(existing);
      expect(existsSync(done.file)).toBe(true);
      const st = await status(opts);
      expect(st.state?.enabled).toBe(true);
    } finally {
      await uninstall(opts);
    }
    expect(existsSync(done.file)).toBe(false);
    expect((await processRunner(["systemctl", "--user", "is-enabled", "s3jit.service"])).code).not.toBe(0);
  });
});
