import path from "node:path";
import type { EnvInfo } from "../control/contract.js";
import { isolate } from "../config/shadowing.js";
import { UsageError } from "../errors.js";
import { resolvePaths } from "../paths.js";
import { EXIT, type Deps } from "./io.js";

export type Shell = "sh" | "fish" | "powershell";

export interface EnvInput {
  profile: string;
  shell: Shell;
  json: boolean;
  /** Print AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE instead of AWS_CONTAINER_AUTHORIZATION_TOKEN. */
  tokenFile?: boolean;
  /** Print an ~/.aws/config snippet using credential_process instead. */
  awsConfig?: boolean;
  /** The command that runs this CLI (absolute), for the snippet. */
  cli?: string;
  /** Where the session's own AWS config files go (default: "aws" in s3jit's runtime folder). */
  awsDir?: string;
}

export interface SessionEnv {
  set: Record<string, string>;
  unset: string[];
}

const TOKEN = "AWS_CONTAINER_AUTHORIZATION_TOKEN";
const TOKEN_FILE = "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE";

/**
 * The endpoint and ONE token variable; the other is unset. With both set the SDKs disagree (JS v3
 * and Java v2 send the variable, the rest read the file) and JS v3 warns on every client. The
 * variable is the default: every SDK with full-URI support reads it, botocore 1.29 and AWS CLI
 * 2.9 read nothing else. The file suits long-lived programs of SDKs that read it at each fetch:
 * they pick up the new token after `s3jit logout` rotates it.
 */
export function endpointVars(info: EnvInfo, tokenFile = false): SessionEnv {
  return {
    set: { AWS_CONTAINER_CREDENTIALS_FULL_URI: info.url, ...(tokenFile ? { [TOKEN_FILE]: info.tokenFile } : { [TOKEN]: info.token }) },
    unset: [tokenFile ? TOKEN : TOKEN_FILE],
  };
}

/**
 * Everything a program needs to get the session and nothing else: the endpoint, and the shared
 * files and variables that would shadow it out of the way (config/shadowing.ts). `env` is the
 * environment the program would otherwise run with. Throws IsolationError when that is impossible.
 */
export function sessionEnv(info: EnvInfo, env: NodeJS.ProcessEnv, opts: { tokenFile?: boolean; awsDir?: string } = {}): SessionEnv {
  const endpoint = endpointVars(info, opts.tokenFile);
  const isolation = isolate(env, { dir: opts.awsDir ?? path.join(resolvePaths(env).runtime, "aws"), profile: info.profile, region: info.region });
  return { set: { ...endpoint.set, ...isolation.set }, unset: [...isolation.unset, ...endpoint.unset] };
}

const quoteSh = (v: string) => `'${v.replace(/'/g, `'\\''`)}'`;
const quotePs = (v: string) => `'${v.replace(/'/g, "''")}'`;

export function render(vars: SessionEnv, shell: Shell): string {
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
  const vars = sessionEnv(info, deps.io.env, { tokenFile: input.tokenFile, awsDir: input.awsDir });
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
