import path from "node:path";
import type { Command, Prior, RunResult, ServiceContext, ServicePlatform, ServiceState } from "./platform.js";
import { fill, readTemplate, xmlEscape } from "./template.js";

export const LABEL = "dev.s3jit.daemon";

const domain = (ctx: ServiceContext) => `gui/${ctx.uid}`;
const job = (ctx: ServiceContext) => `gui/${ctx.uid}/${LABEL}`;
const plistPath = (home: string) => path.join(home, "Library", "LaunchAgents", `${LABEL}.plist`);

export const launchd: ServicePlatform = {
  name: "launchd",

  render: (ctx) =>
    fill(readTemplate(`launchd/${LABEL}.plist`), {
      LABEL: xmlEscape(LABEL),
      NODE: xmlEscape(ctx.node),
      CLI: xmlEscape(ctx.cli),
      CONFIG: xmlEscape(ctx.config),
      LOG_DIR: xmlEscape(ctx.paths.log),
      PATH: xmlEscape(ctx.path),
    }),

  targetPath: plistPath,

  // launchd opens StandardOutPath but does not create its folder.
  requiredDirs: (ctx) => [ctx.paths.log],

  sessionProbe: (ctx) => ["launchctl", "print", domain(ctx)],

  noSessionMessage: (ctx, detail) =>
    `there is no GUI login session for uid ${ctx.uid} (launchctl: ${detail}). ` +
    "A LaunchAgent runs in the session of a user logged in at the Mac's screen; an ssh session alone has none. " +
    "Log in at the screen (or through Screen Sharing) and rerun `s3jit service install`, or run `s3jit daemon` yourself.",

  loadedProbe: (ctx) => ["launchctl", "print", job(ctx)],

  installCommands(ctx, prior: Prior): Command[] {
    // bootstrap refuses a job that is already loaded, and launchd reads a plist only when it
    // loads it: a changed file needs bootout first; an unchanged, loaded one only needs to be
    // running (kickstart without -k leaves a running daemon and its in-memory state alone).
    // No `launchctl enable`: it writes an override that would outlive an uninstall.
    if (!prior.loaded) return [{ argv: ["launchctl", "bootstrap", domain(ctx), plistPath(ctx.home)] }];
    if (prior.file === "same") return [{ argv: ["launchctl", "kickstart", job(ctx)] }];
    return [{ argv: ["launchctl", "bootout", job(ctx)] }, { argv: ["launchctl", "bootstrap", domain(ctx), plistPath(ctx.home)] }];
  },

  uninstallCommands: (ctx) => ({
    // Fails when the job is not loaded (booted out by hand, or never loaded): nothing to stop.
    beforeRemove: [{ argv: ["launchctl", "bootout", job(ctx)], mayFail: true }],
    afterRemove: [],
  }),

  statusCommands: (ctx) => [["launchctl", "print", job(ctx)]],

  readStatus(results: RunResult[]): ServiceState {
    const r = results[0];
    if (!r || r.code !== 0) return { enabled: false, running: false, pid: null, detail: "not loaded" };
    const field = (name: string) => new RegExp(`^\\s*${name} = (.+)$`, "m").exec(r.stdout)?.[1]?.trim();
    const state = field("state") ?? "unknown";
    const pid = Number(field("pid") ?? 0);
    const lastExit = field("last exit code");
    return {
      enabled: true,
      running: state === "running",
      pid: pid > 0 ? pid : null,
      detail: lastExit && lastExit !== "0" && lastExit !== "(never exited)" ? `${state}, last exit code ${lastExit}` : state,
    };
  },
};
