import { existsSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { pathsUnder, recordingRunner, tempHome } from "../../test/helpers/service.js";
import type { Io } from "./io.js";
import { run } from "./service.js";

function capture(): Io & { stdout: string[]; stderr: string[] } {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return { out: (t) => stdout.push(t), err: (t) => stderr.push(t), color: false, env: {}, stdout, stderr };
}

describe("s3jit service", () => {
  it("install --dry-run prints a script of the file and the commands, and changes nothing", async () => {
    const home = tempHome();
    const io = capture();
    const runner = recordingRunner();
    const code = await run({ action: "install", dryRun: true }, { io, options: { home, run: runner, platform: "linux", paths: pathsUnder(home), uid: 1000, node: "/usr/bin/node", cli: "/opt/s3jit/bin/s3jit.js" } });
    expect(code).toBe(0);
    expect(runner.calls).toEqual([]);
    expect(existsSync(home)).toBe(false);
    const text = io.stdout.join("\n");
    expect(text).toMatch(/^# s3jit service install --dry-run \(systemd user unit s3jit.service\): nothing was changed\./);
    expect(text).toContain('ExecStart="/usr/bin/node" --max-semi-space-size=1 --optimize-for-size --no-allocation-site-pretenuring --v8-pool-size=1 --no-memory-reducer --compact-on-every-full-gc --expose-gc "/opt/s3jit/bin/s3jit.js" daemon --config');
    expect(text).toMatch(/S3JIT_EOF\nsystemctl --user daemon-reload\nsystemctl --user reset-failed s3jit.service \|\| true\nsystemctl --user enable --now s3jit.service$/);
    expect(io.stderr.join()).toMatch(/config\.toml does not exist yet/);
  });

  it("install, status and uninstall report what happened; status exits 3 when not running", async () => {
    const home = tempHome();
    const options = { home, platform: "linux" as const, paths: pathsUnder(home), uid: 1000, node: "/usr/bin/node", cli: "/opt/s3jit/bin/s3jit.js" };
    const io = capture();
    expect(await run({ action: "install", dryRun: false }, { io, options: { ...options, run: recordingRunner() } })).toBe(0);
    expect(io.stdout.at(-1)).toBe(`installed ${path.join(home, ".config/systemd/user/s3jit.service")}; s3jit runs now and at every login (systemd user unit s3jit.service). Check it with \`s3jit service status\`.`);

    const inactive = recordingRunner((argv) => (argv[2] === "show" && argv[3] === "s3jit.service" ? { stdout: "LoadState=loaded\nActiveState=inactive\nSubState=dead\nUnitFileState=enabled\nMainPID=0\nResult=success\n" } : undefined));
    expect(await run({ action: "status", dryRun: false }, { io, options: { ...options, run: inactive } })).toBe(3);
    expect(io.stdout.at(-1)).toBe("state: inactive (dead), starts at login");

    expect(await run({ action: "uninstall", dryRun: false }, { io, options: { ...options, run: recordingRunner() } })).toBe(0);
    expect(io.stdout.at(-1)).toMatch(/^removed .*s3jit.service and stopped the daemon; your config, state and logs are kept$/);
    expect(await run({ action: "uninstall", dryRun: false }, { io, options: { ...options, run: recordingRunner() } })).toBe(0);
    expect(io.stdout.at(-1)).toMatch(/^not installed: /);
  });
});
