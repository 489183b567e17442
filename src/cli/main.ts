import { parseArgs } from "node:util";
import { UsageError } from "../errors.js";
import { resolvePaths } from "../paths.js";
import { controlClient } from "../control/client.js";
import { EXIT, processIo, type Deps } from "./io.js";
import { terminalText } from "./safe-text.js";
import { failed } from "./failure.js";

const USAGE = `usage: s3jit <command> [options]

  init [--sso-start-url URL --sso-region R --profile NAME --account ID --role ROLE --region R --scope S…] [--force]
                                            write a commented config.toml (asks what is missing on a terminal)
  daemon [--config PATH]                    run the daemon in the foreground
  login [SSO] [--no-browser] [--force]      sign in to IAM Identity Center
  logout                                    forget SSO tokens and cached sessions
  grant PROFILE [--for 30m] [--reason TEXT] open or extend an access window
  revoke PROFILE                            close the window now
  status [--json | --format xbar|waybar]    login, windows, sessions, daemon
  env PROFILE [--shell sh|fish|powershell] [--token-file] [--json] [--aws-config]
                                            print the variables that point an SDK at s3jit and keep
                                            other credentials away (--token-file: the token's file
                                            instead of the token; --aws-config: a credential_process
                                            profile instead)
  exec PROFILE -- CMD [ARGS…]               run CMD with those variables (refuses if it cannot)
  credential-process PROFILE                credential_process JSON (Version 1)
  service install|uninstall|status [--dry-run]
                                            start the daemon at login (launchd / systemd --user)
  audit [--since 1h] [--json] [--follow]    the audit trail: grants, mints, hand-outs, refusals
                                            (--follow: keep printing new lines, for a log shipper)
  doctor [--json] [--config PATH]           check config, keychain, daemon, login, endpoints, clock,
                                            shadowing credentials, AWS CLI/botocore versions
  completion bash|zsh|fish                  print a shell completion script (profile and SSO names from the config)
  version                                   print the version

Exit codes: 0 ok, 1 failure, 2 usage error, 3 daemon not running.`;

type Options = Record<string, { type: "string" | "boolean"; short?: string; multiple?: boolean }>;

function parse(argv: string[], options: Options, positionals: { min: number; max: number; names: string }) {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: { ...options, help: { type: "boolean", short: "h" } }, allowPositionals: true, strict: true });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  if (parsed.positionals.length < positionals.min || parsed.positionals.length > positionals.max) {
    throw new UsageError(`expected ${positionals.names}`);
  }
  return { values: parsed.values as Record<string, string | boolean | string[] | undefined>, args: parsed.positionals };
}

const s = (v: string | boolean | string[] | undefined): string | undefined => (typeof v === "string" ? v : undefined);

export async function main(argv: string[]): Promise<number> {
  const io = processIo();
  const [command, ...rest] = argv;
  const deps = (): Deps => ({ io, client: controlClient(resolvePaths().socket) });
  try {
    switch (command) {
      case undefined:
      case "help":
      case "--help":
      case "-h":
        io.out(USAGE);
        return command === undefined ? EXIT.usage : EXIT.ok;
      case "version":
      case "--version":
        io.out((await import("../version.js")).VERSION);
        return EXIT.ok;
      case "daemon": {
        const { values } = parse(rest, { config: { type: "string" } }, { min: 0, max: 0, names: "no arguments" });
        const { runDaemon } = await import("../daemon/run.js");
        return await runDaemon({ configFile: s(values.config) });
      }
      case "login": {
        const { values, args } = parse(rest, { "no-browser": { type: "boolean" }, force: { type: "boolean" } }, { min: 0, max: 1, names: "at most one SSO name" });
        return await (await import("./login.js")).run({ sso: args[0], noBrowser: !!values["no-browser"], force: !!values.force }, deps());
      }
      case "logout":
        parse(rest, {}, { min: 0, max: 0, names: "no arguments" });
        return await (await import("./logout.js")).run({}, deps());
      case "grant": {
        const { values, args } = parse(rest, { for: { type: "string" }, reason: { type: "string" } }, { min: 1, max: 1, names: "a PROFILE" });
        return await (await import("./grant.js")).run({ profile: args[0]!, for: s(values.for), reason: s(values.reason) }, deps());
      }
      case "revoke": {
        const { args } = parse(rest, {}, { min: 1, max: 1, names: "a PROFILE" });
        return await (await import("./revoke.js")).run({ profile: args[0]! }, deps());
      }
      case "status": {
        const { values } = parse(rest, { json: { type: "boolean" }, format: { type: "string" } }, { min: 0, max: 0, names: "no arguments" });
        return await (await import("./status.js")).run({ json: !!values.json, format: s(values.format) }, deps());
      }
      case "env": {
        const { values, args } = parse(rest, { shell: { type: "string" }, json: { type: "boolean" }, "token-file": { type: "boolean" }, "aws-config": { type: "boolean" } }, { min: 1, max: 1, names: "a PROFILE" });
        const shell = (s(values.shell) ?? "sh") as "sh";
        return await (await import("./env.js")).run({ profile: args[0]!, shell, json: !!values.json, tokenFile: !!values["token-file"], awsConfig: !!values["aws-config"], cli: process.argv[1] }, deps());
      }
      case "exec": {
        const dash = rest.indexOf("--");
        const head = dash >= 0 ? rest.slice(0, dash) : rest.slice(0, 1);
        const cmd = dash >= 0 ? rest.slice(dash + 1) : rest.slice(1);
        const { args } = parse(head, {}, { min: 1, max: 1, names: "PROFILE -- CMD [ARGS…]" });
        return await (await import("./exec.js")).run({ profile: args[0]!, command: cmd }, deps());
      }
      case "credential-process": {
        const { args } = parse(rest, {}, { min: 1, max: 1, names: "a PROFILE" });
        return await (await import("./credential-process.js")).run({ profile: args[0]! }, deps());
      }
      case "init": {
        const { values } = parse(
          rest,
          {
            force: { type: "boolean" },
            config: { type: "string" },
            sso: { type: "string" },
            "sso-start-url": { type: "string" },
            "sso-region": { type: "string" },
            profile: { type: "string" },
            account: { type: "string" },
            role: { type: "string" },
            region: { type: "string" },
            scope: { type: "string", multiple: true },
          } as Options,
          { min: 0, max: 0, names: "options only" },
        );
        const scope = (values.scope as unknown as string[] | undefined) ?? [];
        return await (await import("./init.js")).run(
          {
            configFile: s(values.config) ?? resolvePaths().configFile,
            force: !!values.force,
            ssoName: s(values.sso) ?? "corp",
            startUrl: s(values["sso-start-url"]),
            ssoRegion: s(values["sso-region"]),
            profile: s(values.profile),
            account: s(values.account),
            role: s(values.role),
            region: s(values.region),
            scope: scope.flatMap((x) => x.split(",")).map((x) => x.trim()).filter(Boolean),
          },
          deps(),
        );
      }
      case "audit": {
        const { values } = parse(rest, { since: { type: "string" }, json: { type: "boolean" }, follow: { type: "boolean", short: "f" } }, { min: 0, max: 0, names: "no arguments" });
        return await (await import("./audit.js")).run({ since: s(values.since), json: !!values.json, follow: !!values.follow, file: resolvePaths().auditLog }, { io });
      }
      case "doctor": {
        const { values } = parse(rest, { json: { type: "boolean" }, config: { type: "string" } }, { min: 0, max: 0, names: "no arguments" });
        const configFile = s(values.config) ?? resolvePaths().configFile;
        return await (await import("./doctor.js")).run({ json: !!values.json, configFile }, deps());
      }
      case "service": {
        const { values, args } = parse(rest, { "dry-run": { type: "boolean" } }, { min: 1, max: 1, names: "install, uninstall or status" });
        const action = args[0];
        if (action !== "install" && action !== "uninstall" && action !== "status") throw new UsageError(`service takes install, uninstall or status, not "${action}"`);
        return await (await import("./service.js")).run({ action, dryRun: !!values["dry-run"] }, { io });
      }
      case "completion": {
        const { values, args } = parse(rest, { names: { type: "string" } }, { min: 0, max: 1, names: "bash, zsh or fish" });
        const configFile = resolvePaths().configFile;
        return await (await import("./completion.js")).run({ shell: args[0], names: s(values.names), configFile }, { io });
      }
      default:
        throw new UsageError(`unknown command "${command}"`);
    }
  } catch (err) {
    // Messages quote names as typed or configured, the daemon's too: shown, not obeyed (safe-text.ts).
    if (err instanceof UsageError) {
      io.err(`s3jit: ${terminalText(err.message)}\n\n${USAGE}`);
      return EXIT.usage;
    }
    return failed(io, err);
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`s3jit: ${terminalText(String(err))}\n`);
    process.exitCode = 1;
  },
);
