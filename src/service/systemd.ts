import path from "node:path";
import type { Command, Prior, RunResult, ServiceContext, ServicePlatform, ServiceState } from "./platform.js";
import { fill, readTemplate, systemdWord } from "./template.js";

const UNIT = "s3jit.service";
const user = (...args: string[]): string[] => ["systemctl", "--user", ...args];

/**
 * env-paths puts each folder at $XDG_<KIND>_HOME/s3jit; pinning the parents in the unit makes the
 * daemon use exactly the folders ReadWritePaths= opened.
 */
function xdgEnvironment(ctx: ServiceContext): string {
  const pinned: [string, string][] = [
    ["XDG_CONFIG_HOME", path.dirname(ctx.paths.config)],
    ["XDG_DATA_HOME", path.dirname(ctx.paths.data)],
    ["XDG_STATE_HOME", path.dirname(ctx.paths.log)],
    ["XDG_CACHE_HOME", path.dirname(ctx.paths.cache)],
  ];
  return pinned.map(([k, v]) => systemdWord(`${k}=${v}`, { commandLine: false })).join(" ");
}

const writableDirs = (ctx: ServiceContext): string[] => [ctx.paths.data, ctx.paths.log];

export const systemd: ServicePlatform = {
  name: "systemd",

  render(ctx) {
    const cmd = (s: string) => systemdWord(s, { commandLine: true });
    return fill(readTemplate("systemd/s3jit.service"), {
      NODE: cmd(ctx.node),
      CLI: cmd(ctx.cli),
      CONFIG: cmd(ctx.config),
      XDG_ENVIRONMENT: xdgEnvironment(ctx),
      READ_WRITE_PATHS: writableDirs(ctx)
        .map((d) => systemdWord(d, { commandLine: false }))
        .join(" "),
    });
  },

  // Not $XDG_CONFIG_HOME: the user manager reads that from its own environment, which often
  // lacks the shell's; ~/.config/systemd/user is where it looks when the variable is unset.
  targetPath: (home) => path.join(home, ".config", "systemd", "user", UNIT),

  // The writable folders must exist before the unit starts: ReadWritePaths= on a missing path
  // fails the start (226/NAMESPACE), and under ProtectSystem=strict the daemon cannot create them.
  requiredDirs: (ctx) => writableDirs(ctx),

  sessionProbe: () => user("show", "--property=Version"),

  noSessionMessage: (ctx, detail) =>
    `\`systemctl --user\` cannot reach a systemd user session (${detail}). ` +
    "That happens under ssh/su/sudo without a login session, in containers, and on systems without systemd. Either:\n" +
    "  - start `s3jit daemon` from your session's autostart (a desktop autostart entry, or your window manager's startup file), or\n" +
    "  - give yourself a user manager that runs without a login: `loginctl enable-linger $USER`, " +
    `log in again (or export XDG_RUNTIME_DIR=/run/user/${ctx.uid}), and rerun \`s3jit service install\`.`,

  loadedProbe: () => null,

  installCommands(_ctx, prior: Prior): Command[] {
    // A re-install with the same file must not restart the daemon (a memory keychain would lose
    // the login); a changed file must, or the old command line keeps running.
    const start: Command[] =
      prior.file === "changed" ? [{ argv: user("enable", UNIT) }, { argv: user("restart", UNIT) }] : [{ argv: user("enable", "--now", UNIT) }];
    // reset-failed clears a start limit hit earlier, so the install starts it again; it fails
    // for a unit the manager has never loaded, which is fine.
    return [{ argv: user("daemon-reload") }, { argv: user("reset-failed", UNIT), mayFail: true }, ...start];
  },

  uninstallCommands: () => ({
    beforeRemove: [{ argv: user("disable", "--now", UNIT) }],
    // A unit that failed stays in the manager's memory after its file is gone.
    afterRemove: [{ argv: user("daemon-reload") }, { argv: user("reset-failed", UNIT), mayFail: true }],
  }),

  statusCommands: () => [user("show", UNIT, "--property=LoadState,ActiveState,SubState,UnitFileState,MainPID,ExecMainStatus,Result")],

  readStatus(results: RunResult[]): ServiceState {
    const props = new Map<string, string>();
    for (const line of (results[0]?.stdout ?? "").split("\n")) {
      const eq = line.indexOf("=");
      if (eq > 0) props.set(line.slice(0, eq), line.slice(eq + 1).trim());
    }
    const active = props.get("ActiveState") ?? "unknown";
    const pid = Number(props.get("MainPID") ?? 0);
    const result = props.get("Result");
    let detail = props.get("LoadState") === "not-found" ? "not loaded" : `${active} (${props.get("SubState") ?? "?"})`;
    if (result && result !== "success") detail += `, last result ${result}, exit status ${props.get("ExecMainStatus") ?? "?"}`;
    return { enabled: props.get("UnitFileState") === "enabled", running: active === "active", pid: pid > 0 ? pid : null, detail };
  },
};
