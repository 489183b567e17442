import { chmodSync, mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";

/**
 * A developer's laptop as s3jit meets it: a HOME whose ~/.aws holds standing credentials and
 * credential sources, and a shell whose environment may carry more. Every source here comes
 * before the container provider in the SDKs' default chains; none of it may reach a program
 * started by `s3jit exec` or from a shell after `eval "$(s3jit env)"`.
 *
 * The user's own (non-credential) settings sit beside them: region eu-central-1 (the sandbox's
 * buckets are there, s3jit's profile says eu-west-1), path-style addressing, standard retries
 * with 4 attempts. Those must keep working.
 */

/** The standing keys `aws configure` wrote (not an AWS key id's shape, so no secret scan trips on it). */
export const STANDING_KEY = "AKIA-laptop-standing";
export const USER_REGION = "eu-central-1";

const STATIC_KEYS = `[default]\naws_access_key_id = ${STANDING_KEY}\naws_secret_access_key = standing-secret\n\n[work]\naws_access_key_id = AKIA-laptop-work\naws_secret_access_key = work-secret\n`;

/** The user's settings, written into whichever profile a source uses. */
const SETTINGS = `region = ${USER_REGION}\nretry_mode = standard\nmax_attempts = 4\ns3 =\n    addressing_style = path\n`;

export interface ShadowSource {
  /** What the laptop has, in the user's words. */
  name: string;
  /** ~/.aws/config (the settings are added to [default]). */
  config?: (dir: string) => string;
  /** The shell's own variables. */
  env?: (dir: string) => Record<string, string>;
}

/** Every source the issue names; each laptop also has [default] static keys in ~/.aws/credentials. */
export const SHADOW_SOURCES: ShadowSource[] = [
  { name: "[default] static keys" },
  {
    name: "[default] credential_process",
    config: (dir) => `credential_process = ${path.join(dir, "standing-process.sh")}\n`,
  },
  {
    name: "[default] sso_session",
    config: () => `sso_session = corp\nsso_account_id = 123456789012\nsso_role_name = Admin\n\n[sso-session corp]\nsso_start_url = https://corp.awsapps.com/start\nsso_region = eu-west-1\n`,
  },
  {
    name: "[default] legacy sso_start_url",
    config: () => `sso_start_url = https://corp.awsapps.com/start\nsso_region = eu-west-1\nsso_account_id = 123456789012\nsso_role_name = Admin\n`,
  },
  {
    name: "[default] role_arn + source_profile",
    config: () => `role_arn = arn:aws:iam::123456789012:role/Admin\nsource_profile = work\n`,
  },
  {
    name: "[default] web_identity_token_file",
    config: (dir) => `role_arn = arn:aws:iam::123456789012:role/Admin\nweb_identity_token_file = ${path.join(dir, "web-identity-token")}\n`,
  },
  {
    name: "AWS_ACCESS_KEY_ID + AWS_SECRET_ACCESS_KEY + AWS_SESSION_TOKEN",
    env: () => ({ AWS_ACCESS_KEY_ID: "AKIA-laptop-env", AWS_SECRET_ACCESS_KEY: "env-secret", AWS_SESSION_TOKEN: "env-token" }),
  },
  {
    name: "AWS_PROFILE=work (its settings are the user's)",
    config: () => `\n[profile work]\n${SETTINGS}`,
    env: () => ({ AWS_PROFILE: "work" }),
  },
  {
    name: "AWS_WEB_IDENTITY_TOKEN_FILE + AWS_ROLE_ARN",
    env: (dir) => ({ AWS_WEB_IDENTITY_TOKEN_FILE: path.join(dir, "web-identity-token"), AWS_ROLE_ARN: "arn:aws:iam::123456789012:role/Admin", AWS_ROLE_SESSION_NAME: "laptop" }),
  },
  {
    name: "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    env: () => ({ AWS_CONTAINER_CREDENTIALS_RELATIVE_URI: "/v2/credentials/standing" }),
  },
];

export interface Laptop {
  home: string;
  /** The user's shell: `base` (s3jit's folders, the sandbox) plus HOME and the source's variables. */
  env: NodeJS.ProcessEnv;
}

/** Builds the laptop for one source in `dir` (created). */
export function laptop(dir: string, source: ShadowSource, base: NodeJS.ProcessEnv): Laptop {
  const home = path.join(dir, "home");
  mkdirSync(path.join(home, ".aws"), { recursive: true });
  // A credential_process that hands out standing keys, and a web identity token: both real files.
  const script = path.join(dir, "standing-process.sh");
  writeFileSync(script, `#!/bin/sh\necho '{"Version": 1, "AccessKeyId": "AKIA-laptop-process", "SecretAccessKey": "process-secret"}'\n`);
  chmodSync(script, 0o755);
  writeFileSync(path.join(dir, "web-identity-token"), "eyJhbGciOiJSUzI1NiJ9.laptop.token");
  writeFileSync(path.join(home, ".aws", "credentials"), STATIC_KEYS);
  const extra = source.config?.(dir) ?? "";
  // Keys of [default] come first; a source's own sections (sso-session, profile work) follow them.
  const [defaultKeys, ...sections] = extra.split(/\n(?=\n?\[)/);
  writeFileSync(path.join(home, ".aws", "config"), `[default]\n${SETTINGS}${defaultKeys ?? ""}\n${sections.join("\n")}\n`);
  const env: NodeJS.ProcessEnv = { ...base, HOME: home, ...source.env?.(dir) };
  for (const k of ["AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE"]) delete env[k];
  return { home, env };
}
