import { existsSync } from "node:fs";
import { createInterface } from "node:readline/promises";
import { parseConfig } from "../config/load.js";
import { S3jitError, UsageError } from "../errors.js";
import { writePrivateFile } from "../platform/files.js";
import { EXIT, type Deps } from "./io.js";

export interface InitInput {
  configFile: string;
  force: boolean;
  ssoName: string;
  startUrl?: string;
  ssoRegion?: string;
  profile?: string;
  account?: string;
  role?: string;
  region?: string;
  scope: string[];
}

type Account = { accountId: string; accountName: string; roles: string[] };

/**
 * Writes a commented config.toml (0600). Values come from flags; on a terminal, what is missing is
 * asked, and where a daemon is running and logged in to the instance, accounts and roles are
 * offered from ListAccounts / ListAccountRoles (the daemon asks AWS; the CLI never does).
 * The result is loaded by the real config loader before it is written: init never writes a
 * config the daemon would refuse.
 */
export async function run(input: InitInput, deps: Deps & { ask?: (q: string) => Promise<string>; tty?: boolean }): Promise<number> {
  if (existsSync(input.configFile) && !input.force) {
    throw new S3jitError("ConfigExists", `${input.configFile} already exists: edit it, or run \`s3jit init --force\` to replace it`);
  }
  const tty = deps.tty ?? (!!process.stdin.isTTY && !!process.stdout.isTTY);
  let rl: ReturnType<typeof createInterface> | undefined;
  const ask =
    deps.ask ??
    (async (q: string) => {
      rl ??= createInterface({ input: process.stdin, output: process.stderr });
      return (await rl.question(q)).trim();
    });
  const need = async (value: string | undefined, flag: string, question: string): Promise<string> => {
    if (value) return value;
    if (!tty) throw new UsageError(`${flag} is required without a terminal (s3jit init --sso-start-url URL --sso-region R --profile NAME --account ID --role ROLE --scope BUCKET[/PREFIX]… [--region R])`);
    const a = await ask(question);
    if (!a) throw new UsageError(`${flag}: an answer is required`);
    return a;
  };
  try {
    const startUrl = await need(input.startUrl, "--sso-start-url", "IAM Identity Center start URL (https://…/start): ");
    const ssoRegion = await need(input.ssoRegion, "--sso-region", "IAM Identity Center region (e.g. eu-west-1): ");
    let account = input.account;
    let role = input.role;
    if (tty && (!account || !role)) {
      const accounts = await deps.client.get<Account[]>(`/v1/sso/${encodeURIComponent(input.ssoName)}/accounts`).catch(() => undefined);
      if (!accounts) deps.io.err(`(To pick from your accounts and roles: start the daemon with an [sso.${input.ssoName}] section and run \`s3jit login\`. Asking instead.)`);
      if (accounts?.length) {
        deps.io.err(`Accounts and roles of your IAM Identity Center login (${input.ssoName}):`);
        deps.io.err(accounts.map((a, i) => `  ${i + 1}. ${a.accountId} ${a.accountName} (${a.roles.join(", ")})`).join("\n"));
        const pick = accounts[Number(await ask("Account number: ")) - 1];
        if (pick) {
          account ??= pick.accountId;
          if (!role) {
            deps.io.err(pick.roles.map((r, i) => `  ${i + 1}. ${r}`).join("\n"));
            role = pick.roles[Number(await ask("Role number: ")) - 1];
          }
        }
      }
    }
    const profile = await need(input.profile, "--profile", "Profile name (e.g. audit): ");
    account = await need(account, "--account", "AWS account id (12 digits): ");
    role = await need(role, "--role", "Permission set role name: ");
    // The buckets' region defaults to the instance's (asked on a terminal, where Enter keeps it).
    const region = input.region ?? (tty ? (await ask(`Region of the buckets [${ssoRegion}]: `)) || ssoRegion : ssoRegion);
    const scope = input.scope.length ? input.scope : tty ? (await ask("Buckets or bucket/prefix to read, comma-separated: ")).split(",").map((x) => x.trim()).filter(Boolean) : [];
    if (!scope.length) throw new UsageError("--scope is required: one or more BUCKET or BUCKET/PREFIX");

    const text = render({ ssoName: input.ssoName, startUrl, ssoRegion, profile, account, role, region, scope });
    // The daemon's own loader decides: a bad answer is refused here, with its key and reason.
    parseConfig(text, input.configFile);
    writePrivateFile(input.configFile, text);
    deps.io.out(`wrote ${input.configFile}\nnext: s3jit daemon (or s3jit service install), s3jit login, s3jit grant ${profile} --reason "…"`);
    return EXIT.ok;
  } finally {
    rl?.close();
  }
}

const q = (s: string) => JSON.stringify(s);

function render(v: { ssoName: string; startUrl: string; ssoRegion: string; profile: string; account: string; role: string; region: string; scope: string[] }): string {
  return `# s3jit configuration, written by \`s3jit init\`. Durations: 30s, 30m, 2h, 1h30m.
# Every key: see the README ("Configuration").

[daemon]
port = 17810            # loopback port of the credentials endpoint (0 = any free port)
keychain = "os"         # "os" (the OS keychain) or "memory" (nothing survives a restart)

[sso.${v.ssoName}]
start_url = ${q(v.startUrl)}
region = ${q(v.ssoRegion)}

[profile.${v.profile}]
sso = ${q(v.ssoName)}
account_id = ${q(v.account)}
sso_role = ${q(v.role)}                # the permission set's role (it must allow the S3 reads)
region = ${q(v.region)}
scope = [${v.scope.map(q).join(", ")}]   # "bucket" or "bucket/prefix/": data, never actions
window = "30m"                         # default window length
max_window = "2h"                      # the longest window \`grant\` may open
session_ttl = "1h"                     # longest AWS-side life of one session
require_reason = true                  # \`grant\` needs --reason
`;
}
