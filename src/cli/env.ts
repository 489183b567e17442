import type { EnvInfo } from "../control/contract.js";
import { UsageError } from "../errors.js";
import { EXIT, type Deps } from "./io.js";

export type Shell = "sh" | "fish" | "powershell";

export interface EnvInput {
  profile: string;
  shell: Shell;
  json: boolean;
  /** Print an ~/.aws/config snippet using credential_process instead. */
  awsConfig?: boolean;
  /** The command that runs this CLI (absolute), for the snippet. */
  cli?: string;
}

/** What would shadow the container provider in the SDKs' default chains. */
export const SHADOWING = [
  "AWS_ACCESS_KEY_ID",
  "AWS_SECRET_ACCESS_KEY",
  "AWS_SESSION_TOKEN",
  "AWS_PROFILE",
  "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
];

/**
 * The variables that point an SDK at the daemon. Both the token and the token file: botocore 1.29
 * and AWS CLI 2.9 ignore the file, and SDKs disagree on which one wins, so they carry one value.
 */
export function envFor(info: EnvInfo): { set: Record<string, string>; unset: string[] } {
  return {
    set: {
      AWS_CONTAINER_CREDENTIALS_FULL_URI: info.url,
      AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE: info.tokenFile,
      AWS_CONTAINER_AUTHORIZATION_TOKEN: info.token,
      AWS_REGION: info.region,
      AWS_DEFAULT_REGION: info.region,
    },
    unset: SHADOWING,
  };
}

const quoteSh = (v: string) => `'${v.replace(/'/g, `'\\''`)}'`;
const quotePs = (v: string) => `'${v.replace(/'/g, "''")}'`;

export function render(vars: { set: Record<string, string>; unset: string[] }, shell: Shell): string {
  const lines: string[] = [];
  for (const [k, v] of Object.entries(vars.set)) {
    if (shell === "sh") lines.push(`export ${k}=${quoteSh(v)}`);
    else if (shell === "fish") lines.push(`set -gx ${k} ${quoteSh(v)}`);
    else lines.push(`$Env:${k} = ${quotePs(v)}`);
  }
  if (shell === "sh") lines.push(`unset ${vars.unset.join(" ")}`);
  else if (shell === "fish") lines.push(`set -e ${vars.unset.join(" ")}`);
  else lines.push(...vars.unset.map((k) => `Remove-Item Env:${k} -ErrorAction SilentlyContinue`));
  return lines.join("\n");
}

export async function run(input: EnvInput, deps: Deps): Promise<number> {
  if (!["sh", "fish", "powershell"].includes(input.shell)) throw new UsageError(`--shell takes sh, fish or powershell, not "${input.shell}"`);
  const info = await deps.client.get<EnvInfo>(`/v1/env/${encodeURIComponent(input.profile)}`);
  if (input.awsConfig) {
    deps.io.out(awsConfigSnippet(info, input.cli ?? "s3jit"));
    return EXIT.ok;
  }
  const vars = envFor(info);
  deps.io.out(input.json ? JSON.stringify(vars) : render(vars, input.shell));
  return EXIT.ok;
}

/**
 * For tools without container-credentials support: a profile whose credential_process asks the
 * daemon (which still decides and mints). Slower than the endpoint: one process per fetch.
 */
export function awsConfigSnippet(info: EnvInfo, cli: string): string {
  const cmd = /\s/.test(cli) ? `"${cli}"` : cli;
  return [
    `# Add to ~/.aws/config, then use AWS_PROFILE=s3jit-${info.profile} (or --profile s3jit-${info.profile}).`,
    `[profile s3jit-${info.profile}]`,
    `region = ${info.region}`,
    `credential_process = ${cmd} credential-process ${info.profile}`,
  ].join("\n");
}
