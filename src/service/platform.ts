import { S3jitError } from "../errors.js";
import type { Paths } from "../paths.js";

/** Everything a service file names, all absolute. */
export interface ServiceContext {
  node: string;
  cli: string;
  config: string;
  paths: Paths;
  home: string;
  uid: number;
  /** PATH for the daemon where the service manager gives it too little (launchd). */
  path: string;
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs one command (argv[0] looked up on PATH); injected so tests see every command. */
export type CommandRunner = (argv: readonly string[]) => Promise<RunResult>;

export interface Command {
  argv: string[];
  /** A failure here is expected in some states (nothing to stop, nothing loaded) and harmless. */
  mayFail?: true;
}

/** What the target file was before an install: decides whether the running daemon must restart. */
export interface Prior {
  file: "absent" | "same" | "changed";
  /** launchd only: the job is in the GUI domain now. */
  loaded: boolean;
}

export interface ServiceState {
  enabled: boolean;
  running: boolean;
  pid: number | null;
  /** One line for people, e.g. "active (running)" or "failed (exit code 1)". */
  detail: string;
}

/** launchd.ts and systemd.ts each implement this; install.ts knows no platform details. */
export interface ServicePlatform {
  readonly name: "launchd" | "systemd";
  render(ctx: ServiceContext): string;
  targetPath(home: string): string;
  /** Folders that must exist (0700) before the service starts. */
  requiredDirs(ctx: ServiceContext): string[];
  /** Succeeds only where the service manager of this user's session can be reached. */
  sessionProbe(ctx: ServiceContext): string[];
  noSessionMessage(ctx: ServiceContext, detail: string): string;
  /** launchd only: a command that succeeds when the job is loaded. */
  loadedProbe(ctx: ServiceContext): string[] | null;
  installCommands(ctx: ServiceContext, prior: Prior): Command[];
  uninstallCommands(ctx: ServiceContext): { beforeRemove: Command[]; afterRemove: Command[] };
  statusCommands(ctx: ServiceContext): string[][];
  readStatus(results: RunResult[]): ServiceState;
}

export class NoServiceSessionError extends S3jitError {
  constructor(message: string) {
    super("NoServiceSession", message);
  }
}

export class UnsupportedPlatformError extends S3jitError {
  constructor(platform: string) {
    super(
      "UnsupportedPlatform",
      `s3jit service supports macOS (launchd) and Linux (systemd user units), not ${platform}: start \`s3jit daemon\` from your session's autostart instead`,
    );
  }
}

export class ServiceCommandError extends S3jitError {
  constructor(command: string, result: RunResult) {
    const why = (result.stderr || result.stdout).trim().split("\n").slice(-3).join(" / ");
    super("ServiceCommandFailed", `\`${command}\` failed (exit ${result.code})${why ? `: ${why}` : ""}`);
  }
}
