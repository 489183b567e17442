import { execFile } from "node:child_process";
import type { Check } from "./doctor.js";

/**
 * doctor's checks of the AWS tools on PATH: an AWS CLI or botocore older than the versions that
 * accept the endpoint's full URI and token fails every call in a way that does not name s3jit.
 */

/** The oldest versions s3jit is tested with (DESIGN.md §2); they read only AWS_CONTAINER_AUTHORIZATION_TOKEN. */
const MIN_AWS_CLI = [2, 9, 0] as const;
const MIN_BOTOCORE = [1, 29, 0] as const;

/** Runs a version query; undefined when the program is not there or fails. */
function versionOutput(cmd: string, args: string[], env: NodeJS.ProcessEnv): Promise<string | undefined> {
  return new Promise((resolve) => {
    execFile(cmd, args, { env, timeout: 15_000 }, (err, stdout, stderr) => resolve(err ? undefined : `${stdout}${stderr}`));
  });
}

const parseVersion = (text: string | undefined, re: RegExp): number[] | undefined => {
  const m = text === undefined ? null : re.exec(text);
  return m ? [Number(m[1]), Number(m[2]), Number(m[3])] : undefined;
};
const older = (v: readonly number[], min: readonly number[]) => v[0]! < min[0]! || (v[0] === min[0] && (v[1]! < min[1]! || (v[1] === min[1] && v[2]! < min[2]!)));

export async function awsCliCheck(env: NodeJS.ProcessEnv): Promise<Check> {
  const name = "aws cli";
  const out = await versionOutput("aws", ["--version"], env);
  const cli = parseVersion(out, /aws-cli\/(\d+)\.(\d+)\.(\d+)/);
  if (!cli) return { name, ok: true, detail: "no `aws` on PATH" };
  // AWS CLI v1 is botocore underneath: its botocore version is what counts.
  const botocore = cli[0] === 1 ? parseVersion(out, /botocore\/(\d+)\.(\d+)\.(\d+)/) : undefined;
  const label = `aws-cli/${cli.join(".")}${botocore ? ` (botocore ${botocore.join(".")})` : ""}`;
  const tooOld = botocore ? older(botocore, MIN_BOTOCORE) : cli[0] === 1 || older(cli, MIN_AWS_CLI);
  if (!tooOld) return { name, ok: true, detail: `${label} takes credentials from s3jit's endpoint` };
  return {
    name,
    ok: true,
    warn: true,
    detail: `${label} is older than AWS CLI ${MIN_AWS_CLI.slice(0, 2).join(".")} / botocore ${MIN_BOTOCORE.slice(0, 2).join(".")}, the oldest that s3jit's endpoint is known to work with`,
    fix: "upgrade the AWS CLI (v2: https://docs.aws.amazon.com/cli/latest/userguide/getting-started-install.html)",
  };
}

export async function botocoreCheck(env: NodeJS.ProcessEnv): Promise<Check> {
  const name = "botocore";
  const version = parseVersion(await versionOutput("python3", ["-c", "import botocore; print(botocore.__version__)"], env), /^(\d+)\.(\d+)\.(\d+)/);
  if (!version) return { name, ok: true, detail: "no botocore for the `python3` on PATH" };
  if (!older(version, MIN_BOTOCORE)) return { name, ok: true, detail: `botocore ${version.join(".")} (boto3) takes credentials from s3jit's endpoint` };
  return {
    name,
    ok: true,
    warn: true,
    detail: `botocore ${version.join(".")} (boto3) is older than ${MIN_BOTOCORE.slice(0, 2).join(".")}, the oldest that s3jit's endpoint is known to work with`,
    fix: "python3 -m pip install --upgrade boto3 botocore (or your distribution's newer package)",
  };
}
