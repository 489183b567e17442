import { readFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { S3jitError } from "../errors.js";
import { ensurePrivateDir, keepPrivateFile, privacyProblemAt } from "../platform/files.js";
import { parseAwsIni, type AwsIniEntry, type AwsIniSection } from "./aws-config.js";

/**
 * Shadowing: every AWS SDK's default credential chain tries the environment and the shared files
 * (~/.aws/config, ~/.aws/credentials) before the container provider s3jit serves. A laptop with
 * `aws configure`'s [default] keys, an SSO profile or an AWS_PROFILE in the shell would hand a
 * program those standing credentials instead of the window-bound session, silently.
 *
 * `s3jit exec` and `s3jit env` therefore give the program its own pair of shared files: a config
 * holding the user's settings for the profile they use (region, s3 addressing, CA bundle,
 * retries, endpoints…) with every credential key taken out, and an empty credentials file, both
 * private, named by AWS_CONFIG_FILE / AWS_SHARED_CREDENTIALS_FILE; and they unset every variable
 * that names credentials or a credential source. Credential keys are recognised by prefix
 * (aws_, sso_, role_, credential…), so a key a future SDK adds under those names is dropped too.
 */

/** Variables that hold credentials or choose a credential source ahead of the container provider, and what each is. */
const VARIABLES: Record<string, string> = {
  AWS_ACCESS_KEY_ID: "static keys",
  AWS_SECRET_ACCESS_KEY: "static keys",
  AWS_SESSION_TOKEN: "static keys",
  AWS_SECURITY_TOKEN: "static keys (botocore's old name)",
  AWS_CREDENTIAL_EXPIRATION: "static keys' expiry",
  AWS_ACCESS_KEY: "static keys (the Ruby, .NET and Java v1 SDKs' old name)",
  AWS_SECRET_KEY: "static keys (the Ruby, .NET and Java v1 SDKs' old name)",
  AMAZON_ACCESS_KEY_ID: "static keys (the Ruby SDK's old name)",
  AMAZON_SECRET_ACCESS_KEY: "static keys (the Ruby SDK's old name)",
  AMAZON_SESSION_TOKEN: "static keys (the Ruby SDK's old name)",
  AWS_PROFILE: "chooses a profile of the shared files",
  AWS_DEFAULT_PROFILE: "chooses a profile of the shared files (botocore, AWS CLI)",
  AWS_WEB_IDENTITY_TOKEN_FILE: "a web identity (OIDC) role",
  AWS_ROLE_ARN: "a web identity (OIDC) role",
  AWS_ROLE_SESSION_NAME: "a web identity (OIDC) role",
  AWS_CONTAINER_CREDENTIALS_RELATIVE_URI: "the ECS task endpoint, which every SDK prefers to a full URI",
  AWS_ACCOUNT_ID: "the account of other credentials (account-based endpoints)",
};

/** Names of the variables exec and env remove (the endpoint's own come on top). */
export const SHADOWING_VARIABLES: readonly string[] = Object.keys(VARIABLES);

/** Java reads aws.* system properties before anything else; they can hide in these variables, which s3jit will not rewrite. */
const JAVA_OPTIONS = ["JAVA_TOOL_OPTIONS", "JDK_JAVA_OPTIONS", "_JAVA_OPTIONS"];
const JAVA_PROPERTY = /-Daws\.(accessKeyId|secretKey|secretAccessKey|sessionToken|profile|webIdentityTokenFile|roleArn|roleSessionName|sharedCredentialsFile|configFile|containerCredentialsPath)=/;

/** Keys of a shared-file profile that are (or lead to) credentials. Everything else is a setting. */
export function isCredentialKey(key: string): boolean {
  return /^(aws_|sso_|role_|credential|web_identity|login_|source_profile$|mfa_serial$|external_id$|duration_seconds$)/.test(key);
}

/** What a group of credential keys is, in the user's words. */
function describe(keys: string[]): string {
  const what = new Set<string>();
  for (const k of keys) {
    if (k === "aws_access_key_id" || k === "aws_secret_access_key" || k === "aws_session_token" || k === "aws_security_token") what.add("static keys");
    else if (k === "credential_process") what.add("a credential process");
    else if (k.startsWith("sso_")) what.add("an IAM Identity Center (SSO) login");
    else if (k === "web_identity_token_file") what.add("a web identity role");
    else if (k === "source_profile" || k === "credential_source") what.add("a role assumed with other credentials");
    else if (k.startsWith("login_")) what.add("an AWS console login");
  }
  return [...what].join(", ") || "credential settings";
}

/** The shared files an SDK reads in this environment (AWS_CONFIG_FILE / AWS_SHARED_CREDENTIALS_FILE, else ~/.aws). */
export function sharedFiles(env: NodeJS.ProcessEnv): { config: string; credentials: string } {
  const home = env.HOME || os.homedir();
  const resolve = (file: string | undefined, fallback: string) => {
    if (!file) return path.join(home, ".aws", fallback);
    return file === "~" || file.startsWith("~/") ? path.join(home, file.slice(1)) : path.resolve(file);
  };
  return { config: resolve(env.AWS_CONFIG_FILE, "config"), credentials: resolve(env.AWS_SHARED_CREDENTIALS_FILE, "credentials") };
}

/** The profile the SDKs use in this environment. */
export function activeProfile(env: NodeJS.ProcessEnv): string {
  return env.AWS_PROFILE || env.AWS_DEFAULT_PROFILE || "default";
}

/** A file's sections; a missing file has none, anything else unreadable throws. */
function readSections(file: string): AwsIniSection[] {
  try {
    return parseAwsIni(readFileSync(file, "utf8"));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw err;
  }
}

/** The sections that make up `profile` in the config file (`[default]` or `[profile NAME]`) or in the credentials file (`[NAME]`). */
function sectionsOf(sections: AwsIniSection[], profile: string, kind: "config" | "credentials"): AwsIniSection[] {
  const names = kind === "credentials" ? [profile] : profile === "default" ? ["default", "profile default"] : [`profile ${profile}`];
  return sections.filter((s) => names.includes(s.name));
}

/** One place where something would shadow s3jit's session. */
export interface ShadowingSource {
  /** A file, or "environment". */
  where: string;
  /** The file's section, as written between the brackets. */
  section?: string;
  /** The keys or variables. */
  keys: string[];
  what: string;
  /** exec and env keep it away; false: they refuse to run while it is there. */
  isolable: boolean;
}

/**
 * Everything in this environment that would come before s3jit's endpoint: shadowing variables,
 * Java options with aws.* properties, and credential keys in the [default] profile and in the
 * profile AWS_PROFILE names, in both shared files. Throws if a shared file cannot be read.
 */
export function findShadowing(env: NodeJS.ProcessEnv): ShadowingSource[] {
  const found: ShadowingSource[] = [];
  const byWhat = new Map<string, string[]>();
  for (const name of SHADOWING_VARIABLES) {
    if (env[name] === undefined || env[name] === "") continue;
    byWhat.set(VARIABLES[name]!, [...(byWhat.get(VARIABLES[name]!) ?? []), name]);
  }
  for (const [what, keys] of byWhat) found.push({ where: "environment", keys, what, isolable: true });
  for (const { variable, property } of javaProperties(env)) {
    found.push({ where: "environment", keys: [variable], what: `the Java system property aws.${property}`, isolable: false });
  }
  const files = sharedFiles(env);
  const profiles = [...new Set(["default", activeProfile(env)])];
  for (const [kind, file] of [["config", files.config], ["credentials", files.credentials]] as const) {
    const sections = readSections(file);
    for (const profile of profiles) {
      for (const section of sectionsOf(sections, profile, kind)) {
        const keys = [...new Set(section.entries.map((e) => e.key).filter(isCredentialKey))];
        if (keys.length > 0) found.push({ where: file, section: section.name, keys, what: describe(keys), isolable: true });
      }
    }
  }
  return found;
}

/** exec or env cannot give a program s3jit's session alone; the message says why and what to do. */
export class IsolationError extends S3jitError {
  constructor(reason: string) {
    super("IsolationFailed", reason);
  }
}

/** The variables that isolate a program: the generated shared files, and the shadowing variables to remove. */
export interface Isolation {
  set: { AWS_CONFIG_FILE: string; AWS_SHARED_CREDENTIALS_FILE: string };
  unset: string[];
  /** Where the generated config took the user's settings from. */
  settingsFrom: string;
}

/** The user's settings for `profile`: the profile's non-credential entries (credentials file over config, as the SDKs merge them) and the [services] sections they name. */
export function settingsConfig(config: AwsIniSection[], credentials: AwsIniSection[], profile: string, fallbackRegion: string, header: string): string {
  const merged = new Map<string, AwsIniEntry>();
  for (const section of [...sectionsOf(config, profile, "config"), ...sectionsOf(credentials, profile, "credentials")]) {
    for (const entry of section.entries) if (!isCredentialKey(entry.key)) merged.set(entry.key, entry);
  }
  const lines = [header, "[default]"];
  if (!merged.has("region")) lines.push(`# region: the s3jit profile's (yours names none)`, `region = ${fallbackRegion}`);
  const render = (e: AwsIniEntry) => [`${e.key} = ${e.value}`.trimEnd(), ...e.nested.map((n) => `    ${n}`)];
  for (const entry of merged.values()) lines.push(...render(entry));
  const services = merged.get("services")?.value;
  if (services) {
    for (const section of config.filter((s) => s.name === `services ${services}`)) lines.push("", `[${section.name}]`, ...section.entries.flatMap(render));
  }
  return lines.join("\n") + "\n";
}

/**
 * A file name for a content: equal texts get the same name (so an unchanged config is not
 * written again), different ones differ with 64 bits' certainty. Not a security hash (the text
 * is the user's own settings, and the name protects nothing): 64-bit FNV-1a, because loading
 * node:crypto for it cost every `eval "$(s3jit env …)"` ≈10 ms of start-up. Computed in two 32-bit
 * halves (the prime is 2^40 + 435, so h·prime = (h << 40) + h·435): BigInt arithmetic took
 * 1.4 ms for a 2 KB config, on the same start-up path.
 */
export function contentKey(text: string): string {
  let hi = 0xcbf29ce4;
  let lo = 0x84222325;
  const bytes = Buffer.from(text, "utf8");
  for (let i = 0; i < bytes.length; i++) {
    lo = (lo ^ bytes[i]!) >>> 0;
    const low = lo * 435;
    // Every term stays below 2^53, so the sum is exact before it is cut to 32 bits.
    hi = (hi * 435 + lo * 256 + Math.floor(low / 0x100000000)) >>> 0;
    lo = low >>> 0;
  }
  return hi.toString(16).padStart(8, "0") + lo.toString(16).padStart(8, "0");
}

/**
 * Writes the program's shared files into `dir` (0600 files in a 0700 folder) and returns the
 * variables that point at them. The config file is named for its content, so shells with other
 * settings never overwrite each other's. Throws IsolationError when isolation is impossible:
 * an aws.* Java property in the Java options, a shared file that exists but cannot be read, a
 * folder that is not the user's alone, or a failed write.
 */
export function isolate(env: NodeJS.ProcessEnv, opts: { dir: string; profile: string; region: string }): Isolation {
  const [java] = javaProperties(env);
  if (java) {
    throw new IsolationError(`${java.variable} sets the Java system property aws.${java.property}, which Java SDKs use before s3jit's endpoint; remove it from ${java.variable}`);
  }
  const files = sharedFiles(env);
  const profile = activeProfile(env);
  const read = (file: string) => {
    try {
      return readSections(file);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
      throw new IsolationError(`cannot read ${file} (${code}) to carry your settings over; fix its permissions or point AWS_CONFIG_FILE / AWS_SHARED_CREDENTIALS_FILE elsewhere`);
    }
  };
  const config = read(files.config);
  const credentials = read(files.credentials);
  const from = `${files.config} [${profile === "default" ? "default" : `profile ${profile}`}]`;
  const text = settingsConfig(
    config,
    credentials,
    profile,
    opts.region,
    `# Written by s3jit for profile "${opts.profile}": your settings from ${from} without any credentials.\n# The session comes from AWS_CONTAINER_CREDENTIALS_FULL_URI; nothing here may shadow it.`,
  );
  const name = `config-${contentKey(text)}`;
  try {
    ensurePrivateDir(opts.dir);
    const problem = privacyProblemAt(opts.dir, "dir");
    if (problem) throw new IsolationError(`${opts.dir} ${problem.problem}; fix: ${problem.fix}`);
    // The same shell start-up writes the same bytes every time: kept, not rewritten, when they are there.
    keepPrivateFile(path.join(opts.dir, name), text);
    keepPrivateFile(path.join(opts.dir, "credentials"), "");
  } catch (err) {
    if (err instanceof IsolationError) throw err;
    throw new IsolationError(`cannot write the session's AWS config files in ${opts.dir}: ${(err as Error).message}`);
  }
  return {
    set: { AWS_CONFIG_FILE: path.join(opts.dir, name), AWS_SHARED_CREDENTIALS_FILE: path.join(opts.dir, "credentials") },
    unset: [...SHADOWING_VARIABLES],
    settingsFrom: from,
  };
}

function javaProperties(env: NodeJS.ProcessEnv): Array<{ variable: string; property: string }> {
  return JAVA_OPTIONS.flatMap((variable) => {
    const match = JAVA_PROPERTY.exec(env[variable] ?? "");
    return match ? [{ variable, property: match[1]! }] : [];
  });
}
