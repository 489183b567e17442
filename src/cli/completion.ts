import { readFileSync } from "node:fs";
import { UsageError } from "../errors.js";
import { EXIT, type Io } from "./io.js";

/**
 * `s3jit completion bash|zsh|fish` prints a script that completes commands, flags, and the
 * profile and SSO names of the config. The script asks `s3jit completion --names profile|sso` for
 * the names: that reads the config file and nothing else (no daemon, no network), so completing
 * works before the daemon runs and costs one small process.
 */

export const SHELLS = ["bash", "zsh", "fish"] as const;
export type Shell = (typeof SHELLS)[number];

type Arg = "profile" | "sso" | "service" | "shell" | "none";

/** Every command with its flags and what its first argument names. Kept beside main.ts's USAGE (a test compares them). */
export const COMMANDS: Record<string, { flags: string[]; arg: Arg }> = {
  init: { flags: ["--sso-start-url", "--sso-region", "--profile", "--account", "--role", "--region", "--scope", "--sso", "--config", "--force"], arg: "none" },
  daemon: { flags: ["--config"], arg: "none" },
  login: { flags: ["--no-browser", "--force"], arg: "sso" },
  logout: { flags: [], arg: "none" },
  grant: { flags: ["--for", "--reason"], arg: "profile" },
  revoke: { flags: [], arg: "profile" },
  status: { flags: ["--json", "--format"], arg: "none" },
  env: { flags: ["--shell", "--json", "--token-file", "--aws-config"], arg: "profile" },
  exec: { flags: [], arg: "profile" },
  "credential-process": { flags: [], arg: "profile" },
  service: { flags: ["--dry-run"], arg: "service" },
  audit: { flags: ["--since", "--json", "--follow"], arg: "none" },
  doctor: { flags: ["--json", "--config"], arg: "none" },
  completion: { flags: [], arg: "shell" },
  version: { flags: [], arg: "none" },
};

/** Values a flag takes, where there is a fixed set ("file": a path). */
const FLAG_VALUES: Record<string, string[] | "file"> = {
  "--shell": ["sh", "fish", "powershell"],
  "--format": ["xbar", "waybar"],
  "--config": "file",
};

const FIXED_ARGS: Partial<Record<Arg, string[]>> = { service: ["install", "uninstall", "status"], shell: [...SHELLS] };

/** Only names a shell can take as a word: a name with anything else in it is left out, never quoted into a script. */
const SAFE_NAME = /^[A-Za-z0-9_.@+-]{1,64}$/;

/**
 * The profile or SSO names of a config file. Read leniently (a config with an error elsewhere
 * still completes its names); an unreadable file completes nothing.
 */
export async function configNames(file: string, kind: "profile" | "sso"): Promise<string[]> {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch {
    return [];
  }
  let doc: Record<string, unknown>;
  try {
    doc = (await import("smol-toml")).parse(text) as Record<string, unknown>;
  } catch {
    return [];
  }
  const table = doc[kind];
  if (typeof table !== "object" || table === null || Array.isArray(table)) return [];
  return Object.keys(table).filter((n) => SAFE_NAME.test(n)).sort();
}

export interface CompletionInput {
  shell?: string;
  names?: string;
  configFile: string;
}

export async function run(input: CompletionInput, deps: { io: Io }): Promise<number> {
  if (input.names !== undefined) {
    if (input.names !== "profile" && input.names !== "sso") throw new UsageError(`--names takes profile or sso, not "${input.names}"`);
    const names = await configNames(input.configFile, input.names);
    if (names.length) deps.io.out(names.join("\n"));
    return EXIT.ok;
  }
  const shell = input.shell;
  if (!shell || !(SHELLS as readonly string[]).includes(shell)) throw new UsageError(`completion takes one of ${SHELLS.join(", ")}${shell ? `, not "${shell}"` : ""}`);
  deps.io.out(script(shell as Shell));
  return EXIT.ok;
}

export function script(shell: Shell): string {
  if (shell === "bash") return bash();
  if (shell === "zsh") return zsh();
  return fish();
}

const names = (arg: Arg) => (arg === "profile" || arg === "sso" ? `s3jit completion --names ${arg} 2>/dev/null` : "");
const byArg = (arg: Arg) => Object.keys(COMMANDS).filter((c) => COMMANDS[c]!.arg === arg);

function bash(): string {
  const flagCases = Object.entries(COMMANDS)
    .filter(([, c]) => c.flags.length)
    .map(([name, c]) => `      ${name}) flags="${c.flags.join(" ")}" ;;`)
    .join("\n");
  const valueCases = Object.entries(FLAG_VALUES)
    .map(([flag, v]) => (v === "file" ? `    ${flag}) COMPREPLY=($(compgen -f -- "$cur")); return ;;` : `    ${flag}) COMPREPLY=($(compgen -W "${v.join(" ")}" -- "$cur")); return ;;`))
    .join("\n");
  return `# s3jit completion for bash: add to ~/.bashrc
#   source <(s3jit completion bash)
_s3jit() {
  local cur prev cmd i args=0 flags=""
  cur="\${COMP_WORDS[COMP_CWORD]}"
  prev="\${COMP_WORDS[COMP_CWORD-1]}"
  if [ "$COMP_CWORD" -eq 1 ]; then
    COMPREPLY=($(compgen -W "${Object.keys(COMMANDS).join(" ")}" -- "$cur"))
    return
  fi
  cmd="\${COMP_WORDS[1]}"
  # After exec's "--", complete the command to run.
  if [ "$cmd" = exec ]; then
    for ((i = 2; i < COMP_CWORD; i++)); do
      if [ "\${COMP_WORDS[i]}" = "--" ]; then COMPREPLY=($(compgen -c -- "$cur")); return; fi
    done
  fi
  case "$prev" in
${valueCases}
    --for|--reason|--since|--scope|--sso-start-url|--sso-region|--profile|--account|--role|--region|--sso) return ;;
  esac
  if [[ "$cur" == -* ]]; then
    case "$cmd" in
${flagCases}
    esac
    COMPREPLY=($(compgen -W "$flags --help" -- "$cur"))
    return
  fi
  # The first word after the command that is not a flag is its argument.
  for ((i = 2; i < COMP_CWORD; i++)); do
    case "\${COMP_WORDS[i]}" in -*) ;; *) args=$((args + 1)) ;; esac
  done
  [ "$args" -eq 0 ] || return
  case "$cmd" in
    ${byArg("profile").join("|")}) COMPREPLY=($(compgen -W "$(${names("profile")})" -- "$cur")) ;;
    ${byArg("sso").join("|")}) COMPREPLY=($(compgen -W "$(${names("sso")})" -- "$cur")) ;;
    ${byArg("service").join("|")}) COMPREPLY=($(compgen -W "${FIXED_ARGS.service!.join(" ")}" -- "$cur")) ;;
    ${byArg("shell").join("|")}) COMPREPLY=($(compgen -W "${FIXED_ARGS.shell!.join(" ")}" -- "$cur")) ;;
  esac
}
complete -F _s3jit s3jit
`;
}

function zsh(): string {
  const flagCases = Object.entries(COMMANDS)
    .filter(([, c]) => c.flags.length)
    .map(([name, c]) => `      ${name}) compadd -- ${c.flags.join(" ")} --help ;;`)
    .join("\n");
  const valueCases = Object.entries(FLAG_VALUES)
    .map(([flag, v]) => (v === "file" ? `    ${flag}) _files; return ;;` : `    ${flag}) compadd -- ${v.join(" ")}; return ;;`))
    .join("\n");
  return `#compdef s3jit
# s3jit completion for zsh: add to ~/.zshrc, after compinit
#   source <(s3jit completion zsh)
_s3jit() {
  local cmd prev cur i args=0
  if (( CURRENT == 2 )); then
    compadd -- ${Object.keys(COMMANDS).join(" ")}
    return
  fi
  cmd=\${words[2]} prev=\${words[CURRENT-1]} cur=\${words[CURRENT]}
  if [[ $cmd == exec ]] && (( \${words[(I)--]} > 2 && \${words[(I)--]} < CURRENT )); then
    _command_names
    return
  fi
  case $prev in
${valueCases}
    --for|--reason|--since|--scope|--sso-start-url|--sso-region|--profile|--account|--role|--region|--sso) return ;;
  esac
  if [[ $cur == -* ]]; then
    case $cmd in
${flagCases}
      *) compadd -- --help ;;
    esac
    return
  fi
  for (( i = 3; i < CURRENT; i++ )); do
    [[ \${words[i]} == -* ]] || (( args++ ))
  done
  (( args == 0 )) || return
  case $cmd in
    ${byArg("profile").join("|")}) compadd -- \${(f)"$(${names("profile")})"} ;;
    ${byArg("sso").join("|")}) compadd -- \${(f)"$(${names("sso")})"} ;;
    ${byArg("service").join("|")}) compadd -- ${FIXED_ARGS.service!.join(" ")} ;;
    ${byArg("shell").join("|")}) compadd -- ${FIXED_ARGS.shell!.join(" ")} ;;
  esac
}
compdef _s3jit s3jit
`;
}

function fish(): string {
  const lines = [
    "# s3jit completion for fish: add to ~/.config/fish/config.fish",
    "#   s3jit completion fish | source",
    "complete -c s3jit -f",
    `complete -c s3jit -n __fish_use_subcommand -a "${Object.keys(COMMANDS).join(" ")}"`,
  ];
  const when = (cmds: string[]) => `"__fish_seen_subcommand_from ${cmds.join(" ")}"`;
  for (const arg of ["profile", "sso"] as const) lines.push(`complete -c s3jit -n ${when(byArg(arg))} -a "(${names(arg)})"`);
  lines.push(`complete -c s3jit -n ${when(byArg("service"))} -a "${FIXED_ARGS.service!.join(" ")}"`);
  lines.push(`complete -c s3jit -n ${when(byArg("shell"))} -a "${FIXED_ARGS.shell!.join(" ")}"`);
  for (const [name, c] of Object.entries(COMMANDS)) {
    for (const flag of c.flags) {
      const values = FLAG_VALUES[flag];
      const takes = values === "file" ? " -r -F" : values ? ` -x -a "${values.join(" ")}"` : ["--for", "--reason", "--since", "--scope", "--sso-start-url", "--sso-region", "--profile", "--account", "--role", "--region", "--sso"].includes(flag) ? " -x" : "";
      lines.push(`complete -c s3jit -n ${when([name])} -l ${flag.slice(2)}${takes}`);
    }
  }
  return lines.join("\n") + "\n";
}
