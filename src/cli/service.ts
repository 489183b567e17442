import { homeDir } from "../paths.js";
import { describeSteps, install, processRunner, status, uninstall, type ServiceOptions, type ServiceOutcome } from "../service/install.js";
import { EXIT, type Io } from "./io.js";

export interface ServiceInput {
  action: "install" | "uninstall" | "status";
  dryRun: boolean;
}

export interface ServiceDeps {
  io: Io;
  /** Tests move HOME, the platform and the command runner; the CLI uses the real ones. */
  options?: Partial<Omit<ServiceOptions, "dryRun">>;
}

const MANAGER = { systemd: "systemd user unit s3jit.service", launchd: "LaunchAgent dev.s3jit.daemon" } as const;

export async function run(input: ServiceInput, deps: ServiceDeps): Promise<number> {
  const { io } = deps;
  const opts: ServiceOptions = { home: homeDir(), run: processRunner, env: io.env, ...deps.options, dryRun: input.dryRun };

  if (input.action === "status") {
    const st = await status(opts);
    io.out(`service: ${MANAGER[st.platform]}, ${st.file} ${st.installed ? "(installed)" : "(not installed)"}`);
    if (!st.state) {
      io.out(`dry run: would ask the service manager with:\n${st.commands.map((c) => describeSteps([{ kind: "run", argv: c }])).join("\n")}`);
      return EXIT.ok;
    }
    const s = st.state;
    io.out(`state: ${s.detail}${s.pid ? `, pid ${s.pid}` : ""}${s.enabled ? ", starts at login" : ""}`);
    return s.running ? EXIT.ok : EXIT.noDaemon;
  }

  const outcome = input.action === "install" ? await install(opts) : await uninstall(opts);
  for (const w of outcome.warnings) io.err(`s3jit: warning: ${w}`);
  if (outcome.dryRun) {
    io.out(`# s3jit service ${input.action} --dry-run (${MANAGER[outcome.platform]}): nothing was changed.`);
    io.out(outcome.steps.length ? `# It would run:\n${describeSteps(outcome.steps)}` : "# Nothing to do: the service is not installed.");
    return EXIT.ok;
  }
  io.out(summary(input.action, outcome));
  return EXIT.ok;
}

function summary(action: ServiceInput["action"], o: ServiceOutcome): string {
  if (action === "uninstall") {
    return o.change === "absent"
      ? `not installed: ${o.file} does not exist, nothing to do`
      : `removed ${o.file} and stopped the daemon; your config, state and logs are kept`;
  }
  const what = { created: "installed", updated: "updated", unchanged: "already installed:" }[o.change as "created" | "updated" | "unchanged"];
  return `${what} ${o.file}; s3jit runs now and at every login (${MANAGER[o.platform]}). Check it with \`s3jit service status\`.`;
}
