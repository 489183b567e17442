import { execFile } from "node:child_process";
import { existsSync, readFileSync, rmSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { resolvePaths, type Paths } from "../paths.js";
import { ensurePrivateDir, writeFileAtomically } from "../platform/files.js";
import { launchd } from "./launchd.js";
import { NoServiceSessionError, ServiceCommandError, UnsupportedPlatformError, type CommandRunner, type Prior, type RunResult, type ServiceContext, type ServicePlatform, type ServiceState } from "./platform.js";
import { systemd } from "./systemd.js";
import { shellLine } from "./template.js";

export interface ServiceOptions {
  /** Print what would happen; touch no file and run no command. */
  dryRun: boolean;
  home: string;
  run: CommandRunner;
  /** Defaults to process.platform; tests pick the other one. */
  platform?: NodeJS.Platform;
  paths?: Paths;
  uid?: number;
  node?: string;
  cli?: string;
  env?: NodeJS.ProcessEnv;
}

export type Step =
  | { kind: "mkdir"; dir: string }
  | { kind: "write"; file: string; content: string }
  | { kind: "remove"; file: string }
  | { kind: "run"; argv: string[]; mayFail?: true };

export interface ServiceOutcome {
  platform: ServicePlatform["name"];
  file: string;
  dryRun: boolean;
  /** What was done, in order, or with dryRun what would be. */
  steps: Step[];
  /** Install: created, updated or unchanged; uninstall: removed or absent. */
  change: "created" | "updated" | "unchanged" | "removed" | "absent";
  warnings: string[];
}

export interface ServiceStatus {
  platform: ServicePlatform["name"];
  file: string;
  installed: boolean;
  /** null with dryRun: the commands were not run. */
  state: ServiceState | null;
  commands: string[][];
}

const UNIT_MODE = 0o644;

export function platformFor(platform: NodeJS.Platform): ServicePlatform {
  if (platform === "darwin") return launchd;
  if (platform === "linux") return systemd;
  throw new UnsupportedPlatformError(platform);
}

/** The CLI as installed: bin/s3jit.js, two levels above this module in src/ and in dist/. */
export function cliPath(): string {
  return fileURLToPath(new URL("../../bin/s3jit.js", import.meta.url));
}

export function serviceContext(opts: ServiceOptions): ServiceContext {
  const env = opts.env ?? process.env;
  const paths = opts.paths ?? resolvePaths(env);
  const node = opts.node ?? process.execPath;
  // launchd starts jobs with PATH=/usr/bin:/bin:/usr/sbin:/sbin; node's own folder goes first
  // so anything the daemon spawns by name finds the same toolchain.
  const dirs = [path.dirname(node), "/usr/local/bin", "/usr/bin", "/bin", "/usr/sbin", "/sbin"];
  return {
    node,
    cli: opts.cli ?? cliPath(),
    config: paths.configFile,
    paths,
    home: opts.home,
    uid: opts.uid ?? process.getuid?.() ?? 0,
    path: [...new Set(dirs)].join(":"),
  };
}

export async function install(opts: ServiceOptions): Promise<ServiceOutcome> {
  const platform = platformFor(opts.platform ?? process.platform);
  const ctx = serviceContext(opts);
  const file = platform.targetPath(ctx.home);
  const content = platform.render(ctx);
  const existing = existsSync(file) ? readFileSync(file, "utf8") : null;
  const fileState: Prior["file"] = existing === null ? "absent" : existing === content ? "same" : "changed";

  const warnings: string[] = [];
  if (!existsSync(ctx.config)) warnings.push(`${ctx.config} does not exist yet: the daemon fails to start until it does (see \`s3jit doctor\`)`);

  let loaded = fileState !== "absent";
  if (!opts.dryRun) {
    await requireSession(platform, ctx, opts.run);
    const probe = platform.loadedProbe(ctx);
    if (probe) loaded = (await opts.run(probe)).code === 0;
  } else if (platform.loadedProbe(ctx)) {
    warnings.push("dry run: assumed the service is loaded exactly when its file exists (nothing was asked of the service manager)");
  }

  const steps: Step[] = [
    ...platform.requiredDirs(ctx).map((dir): Step => ({ kind: "mkdir", dir })),
    ...(fileState === "same" ? [] : [{ kind: "write", file, content } satisfies Step]),
    ...platform.installCommands(ctx, { file: fileState, loaded }).map((c): Step => ({ kind: "run", ...c })),
  ];
  if (!opts.dryRun) await perform(steps, opts.run);
  return { platform: platform.name, file, dryRun: opts.dryRun, steps, change: fileState === "absent" ? "created" : fileState === "same" ? "unchanged" : "updated", warnings };
}

export async function uninstall(opts: ServiceOptions): Promise<ServiceOutcome> {
  const platform = platformFor(opts.platform ?? process.platform);
  const ctx = serviceContext(opts);
  const file = platform.targetPath(ctx.home);
  if (!existsSync(file)) return { platform: platform.name, file, dryRun: opts.dryRun, steps: [], change: "absent", warnings: [] };
  if (!opts.dryRun) await requireSession(platform, ctx, opts.run);
  const { beforeRemove, afterRemove } = platform.uninstallCommands(ctx);
  const steps: Step[] = [
    ...beforeRemove.map((c): Step => ({ kind: "run", ...c })),
    { kind: "remove", file },
    ...afterRemove.map((c): Step => ({ kind: "run", ...c })),
  ];
  if (!opts.dryRun) await perform(steps, opts.run);
  return { platform: platform.name, file, dryRun: opts.dryRun, steps, change: "removed", warnings: [] };
}

export async function status(opts: ServiceOptions): Promise<ServiceStatus> {
  const platform = platformFor(opts.platform ?? process.platform);
  const ctx = serviceContext(opts);
  const file = platform.targetPath(ctx.home);
  const commands = platform.statusCommands(ctx);
  const installed = existsSync(file);
  if (opts.dryRun) return { platform: platform.name, file, installed, state: null, commands };
  await requireSession(platform, ctx, opts.run);
  const results: RunResult[] = [];
  for (const argv of commands) results.push(await opts.run(argv));
  return { platform: platform.name, file, installed, state: platform.readStatus(results), commands };
}

/** The steps as a shell script a person could read or paste (what --dry-run prints). */
export function describeSteps(steps: readonly Step[]): string {
  return steps
    .map((s) => {
      switch (s.kind) {
        case "mkdir":
          return shellLine(["mkdir", "-p", "-m", "700", s.dir]);
        case "write":
          return `${shellLine(["install", "-d", path.dirname(s.file)])}\ncat > ${shellLine([s.file])} <<'S3JIT_EOF'\n${s.content.replace(/\n$/, "")}\nS3JIT_EOF`;
        case "remove":
          return shellLine(["rm", "-f", s.file]);
        case "run":
          return shellLine(s.argv) + (s.mayFail ? " || true" : "");
      }
    })
    .join("\n");
}

async function requireSession(platform: ServicePlatform, ctx: ServiceContext, run: CommandRunner): Promise<void> {
  const r = await run(platform.sessionProbe(ctx));
  if (r.code !== 0) throw new NoServiceSessionError(platform.noSessionMessage(ctx, firstLine(r)));
}

function firstLine(r: RunResult): string {
  return (r.stderr || r.stdout).trim().split("\n")[0] || `exit ${r.code}`;
}

async function perform(steps: readonly Step[], run: CommandRunner): Promise<void> {
  for (const s of steps) {
    if (s.kind === "mkdir") ensurePrivateDir(s.dir);
    // The service manager may read the file at any moment (a daemon-reload from elsewhere): it
    // must never see half of it.
    else if (s.kind === "write") writeFileAtomically(s.file, s.content, { mode: UNIT_MODE });
    else if (s.kind === "remove") rmSync(s.file, { force: true });
    else {
      const r = await run(s.argv);
      if (r.code !== 0 && !s.mayFail) throw new ServiceCommandError(shellLine(s.argv), r);
    }
  }
}

/** The real runner: no shell, so paths with spaces or quotes pass through untouched. */
export const processRunner: CommandRunner = (argv) =>
  new Promise((resolve) => {
    const [cmd, ...args] = argv;
    execFile(cmd!, args, { timeout: 60_000, maxBuffer: 4 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (!err) return resolve({ code: 0, stdout, stderr });
      const e = err as NodeJS.ErrnoException & { code?: number | string };
      if (e.code === "ENOENT") return resolve({ code: 127, stdout: "", stderr: `${cmd}: command not found` });
      resolve({ code: typeof e.code === "number" ? e.code : 1, stdout, stderr: stderr || e.message });
    });
  });
