import { readFileSync } from "node:fs";
import path from "node:path";
import { parse, TomlError, type TomlTableWithoutBigInt } from "smol-toml";
import { ConfigError } from "../errors.js";
import { resolvePaths } from "../paths.js";
import { awsConfigPath, readSsoSessions, type AwsSsoSession } from "./aws-config.js";
import { applyManagedPolicy, managedPolicyPath, readManagedPolicy } from "./managed.js";
import * as read from "./readers.js";
import { Invalid, Section } from "./section.js";
import { PROFILE_KEYS, readProfile } from "./profile.js";
import type { Config, DaemonConfig, ProfileConfig, SsoConfig } from "./types.js";

export interface LoadOptions {
  /** The AWS CLI config holding [sso-session] sections; default AWS_CONFIG_FILE, then ~/.aws/config. */
  awsConfigFile?: string;
  /** Where AWS_CONFIG_FILE and S3JIT_MANAGED_POLICY are looked up; default process.env. */
  env?: NodeJS.ProcessEnv;
  /** The managed policy file (null: none); default the system one (src/config/managed.ts). */
  managedPolicy?: string | null;
}

/** Defaults of [daemon]; a profile's are in profile.ts. */
const DEFAULTS = { port: 17810, keychain: "os" } as const;

/** Every IAM Identity Center client s3jit registers needs this scope to be issued refresh tokens. */
const ACCESS_SCOPE = "sso:account:access";

const TOP_KEYS = ["daemon", "sso", "profile"];
const DAEMON_KEYS = ["port", "keychain"];
const SSO_KEYS = ["start_url", "region", "auto_login", "registration_scopes", "aws_sso_session"];
/** Reads and validates config.toml; every problem is a ConfigError naming the file and the key. */
export function loadConfig(file: string, opts: LoadOptions = {}): Config {
  const abs = path.resolve(file);
  let text: string;
  try {
    text = readFileSync(abs, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT") throw new ConfigError(abs, "file", missingFileReason(abs));
    throw new ConfigError(abs, "file", `cannot be read (${code ?? String(err)}); s3jit needs to read its config file`);
  }
  const config = parseConfig(text, abs, opts);
  // The organisation's managed policy, where one is installed, bounds what this file may ask for.
  const managed = readManagedPolicy(opts.managedPolicy !== undefined ? opts.managedPolicy : managedPolicyPath(opts.env ?? process.env));
  return managed ? applyManagedPolicy(config, parseToml(text, abs), managed) : config;
}

export function parseConfig(text: string, file: string, opts: LoadOptions = {}): Config {
  const abs = path.resolve(file);
  const root = Section.root(abs, parseToml(text, abs), TOP_KEYS, "the top level");

  const daemon = readDaemon(root.child("daemon", DAEMON_KEYS, "[daemon]"));

  const awsSessions = lazyAwsSessions(awsConfigPath(opts.awsConfigFile, opts.env ?? process.env));
  const sso: Record<string, SsoConfig> = Object.create(null);
  for (const [name, section] of namedTables(root, "sso", SSO_KEYS)) {
    sso[name] = readSso(section, name, awsSessions);
  }

  const profiles: Record<string, ProfileConfig> = Object.create(null);
  for (const [name, section] of namedTables(root, "profile", PROFILE_KEYS)) {
    profiles[name] = readProfile(section, name, sso);
  }
  return { file: abs, daemon, sso, profiles };
}

function parseToml(text: string, file: string): TomlTableWithoutBigInt {
  try {
    // "throw" refuses __proto__/constructor keys, which would otherwise name a profile that a
    // lookup on a plain object finds by accident.
    return parse(text, { unsafeKeyBehaviour: "throw" });
  } catch (err) {
    if (!(err instanceof TomlError)) throw err;
    const what = err.message.split("\n")[0]?.replace(/^Invalid TOML document:\s*/, "") ?? "syntax error";
    throw new ConfigError(
      file,
      `line ${err.line}`,
      `${what} (column ${err.column}); this is not valid TOML: write key = "value" under [section] headers, like the example from \`s3jit init\``,
    );
  }
}

function missingFileReason(file: string): string {
  const standard = resolvePaths().configFile;
  const other = "or name another file with S3JIT_CONFIG or --config";
  return standard === file
    ? `not found; s3jit needs a config file here: create it with \`s3jit init\` (or by hand, see the README), ${other}`
    : `not found; s3jit needs a config file: create this one, or ${standard} (the default place), with \`s3jit init\` or by hand (see the README), ${other}`;
}

function namedTables(root: Section, key: string, allowed: readonly string[]): [string, Section][] {
  const map = root.namedChildren(key, `[${key}.NAME]`);
  if (!map) return [];
  return map.names().map((name) => {
    if (!read.NAME.test(name)) map.fail(name, `is not a usable ${key} name; use ${read.NAME_RULE}`);
    return [name, map.child(name, allowed, `[${key}.${name}]`) as Section];
  });
}

function readDaemon(s: Section | undefined): DaemonConfig {
  return {
    port: s?.optional("port", read.integer(0, 65535, "the loopback port of the credentials endpoint; 0 = any free port")) ?? DEFAULTS.port,
    keychain: s?.optional("keychain", read.oneOf(["os", "memory"] as const)) ?? DEFAULTS.keychain,
  };
}

function readSso(s: Section, name: string, awsSessions: AwsSessions): SsoConfig {
  const autoLogin = s.optional("auto_login", read.boolean) ?? false;
  const sessionName = s.optional("aws_sso_session", read.matching(/^\S+$/, 'the NAME of an [sso-session NAME] in the AWS CLI config, like "corp"'));
  if (sessionName === undefined) {
    const startUrl = s.required("start_url", read.httpsUrl, 'start_url = "https://….awsapps.com/start" (or aws_sso_session = "NAME" to reuse the AWS CLI config)');
    const region = s.required("region", read.region, 'region = "eu-west-1", the region of the IAM Identity Center instance');
    const scopes = s.array("registration_scopes", read.registrationScope, 'OAuth scopes, like ["sso:account:access"]') ?? [];
    return { name, startUrl, region, scopes: withAccessScope(scopes), autoLogin };
  }

  for (const key of ["start_url", "region", "registration_scopes"]) {
    if (s.has(key)) s.fail(key, `set either aws_sso_session (to reuse [sso-session ${sessionName}] of the AWS CLI config) or start_url and region, not both`);
  }
  const fromAws = readAwsSession(sessionName, awsSessions);
  if (fromAws instanceof Invalid) s.fail("aws_sso_session", fromAws.message);
  return { name, ...fromAws, awsSsoSession: sessionName, autoLogin };
}

function readAwsSession(
  name: string,
  awsSessions: AwsSessions,
): { startUrl: string; region: string; scopes: string[] } | Invalid {
  try {
    const { file, sessions } = awsSessions();
    const session = sessions.get(name);
    const where = `[sso-session ${name}] in ${file}`;
    if (!session) {
      const known = [...sessions.keys()].join(", ") || "none";
      return new Invalid(`there is no ${where} (sso-sessions there: ${known}); name one of them, or set start_url and region here instead`);
    }
    const field = <T>(key: string, value: unknown, reader: (v: unknown) => T): T => {
      if (value === undefined) throw new Invalid(`${where} has no ${key}; add it there, or set start_url and region here instead`);
      try {
        return reader(value);
      } catch (err) {
        if (err instanceof Invalid) throw new Invalid(`${key} of ${where}: ${err.message}`);
        throw err;
      }
    };
    return {
      startUrl: field("sso_start_url", session.startUrl, read.httpsUrl),
      region: field("sso_region", session.region, read.region),
      scopes: withAccessScope((session.registrationScopes ?? []).map((sc) => field("sso_registration_scopes", sc, read.registrationScope))),
    };
  } catch (err) {
    if (err instanceof Invalid) return err;
    throw err;
  }
}

/** The [sso-session] sections of the AWS CLI config and the file they came from. */
type AwsSessions = () => { file: string; sessions: Map<string, AwsSsoSession> };

/** Reads the AWS CLI config at most once per load, and only if some [sso.X] asks for it. */
function lazyAwsSessions(file: string): AwsSessions {
  let cached: Map<string, AwsSsoSession> | undefined;
  return () => {
    if (!cached) {
      try {
        cached = readSsoSessions(file);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code ?? String(err);
        throw new Invalid(`cannot read the AWS CLI config ${file} (${code}); point AWS_CONFIG_FILE at it, or set start_url and region here instead`);
      }
    }
    return { file, sessions: cached };
  };
}

function withAccessScope(scopes: string[]): string[] {
  return [...new Set([ACCESS_SCOPE, ...scopes])];
}
