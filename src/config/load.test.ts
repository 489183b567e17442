import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ConfigError } from "../errors.js";
import { exampleConfig } from "./example.js";
import { loadConfig, parseConfig } from "./load.js";

const FILE = "/home/ann/.config/s3jit/config.toml";
const tmp = mkdtempSync(path.join(os.tmpdir(), "s3jit-config-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

// Points at nothing: any test that reaches for the AWS CLI config without meaning to fails loudly.
const NO_AWS = { awsConfigFile: path.join(tmp, "no-such-aws-config") };

const SSO = `[sso.corp]\nstart_url = "https://corp.awsapps.com/start"\nregion = "eu-west-1"\n`;
const PROFILE: Record<string, string> = {
  sso: '"corp"',
  account_id: '"123456789012"',
  sso_role: '"S3JitBase"',
  region: '"eu-west-1"',
  scope: '["reports"]',
};

/** A valid config with [profile.audit] keys replaced (undefined removes one), after `head`. */
function doc(changes: Record<string, string | undefined> = {}, head = "", sso = SSO): string {
  const lines = Object.entries({ ...PROFILE, ...changes })
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k} = ${v}`);
  return `${head}\n${sso}\n[profile.audit]\n${lines.join("\n")}\n`;
}

function errorOf(text: string, opts = NO_AWS): ConfigError {
  try {
    parseConfig(text, FILE, opts);
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error("the config loaded, but it should have been refused");
}

describe("a config the daemon must refuse", () => {
  const ASSUME_ROLE = '"arn:aws:iam::123456789012:role/s3-readonly-jit"';
  it.each<[string, string, string, RegExp]>([
    ["a bucket name with capitals", doc({ scope: '["My_Bucket"]' }), "profile.audit.scope[0]", /3 to 63 lowercase letters, digits, dots and hyphens/],
    ["a bucket name too short", doc({ scope: '["ab/x/"]' }), "profile.audit.scope[0]", /\(2 characters\); S3 bucket names are 3 to 63/],
    ["a bucket name that is an IP address", doc({ scope: '["192.168.1.10"]' }), "profile.audit.scope[0]", /IP address.*S3 bucket names are/],
    ["a bucket name with ..", doc({ scope: '["a..b"]' }), "profile.audit.scope[0]", /has "\.\."/],
    ["a bucket name ending in a hyphen", doc({ scope: '["reports-"]' }), "profile.audit.scope[0]", /start and end with a letter or digit/],
    ["an access point alias", doc({ scope: '["ap-abc-s3alias"]' }), "profile.audit.scope[0]", /reserved by S3/],
    ["a * in a prefix", doc({ scope: '["reports", "logs/*.gz"]' }), "profile.audit.scope[1]", /scopes name data, not patterns: name a bucket \("reports"\) or a bucket and a key prefix/],
    ["a * as the whole scope", doc({ scope: '["*"]' }), "profile.audit.scope[0]", /not patterns/],
    ["a ? in a bucket", doc({ scope: '["rep?rts"]' }), "profile.audit.scope[0]", /not patterns/],
    ["an IAM policy variable", doc({ scope: '["reports/${aws:username}/"]' }), "profile.audit.scope[0]", /policy variable; name a bucket/],
    ["an empty bucket", doc({ scope: '["/prefix/"]' }), "profile.audit.scope[0]", /names no bucket; name a bucket/],
    ["an empty scope", doc({ scope: "[]" }), "profile.audit.scope", /name at least one bucket/],
    ["no scope", doc({ scope: undefined }), "profile.audit.scope", /missing; set scope = \["bucket", "bucket\/prefix\/"\]/],
    ["a scope that is a string", doc({ scope: '"reports"' }), "profile.audit.scope", /must be an array of buckets or bucket\/prefix paths.*not the string "reports"/],
    ["window > max_window", doc({ window: '"3h"', max_window: '"2h"' }), "profile.audit.window", /3h is longer than max_window \(2h\); use a window of at most 2h, or raise max_window/],
    ["window > the default max_window", doc({ window: '"10h"' }), "profile.audit.window", /longer than max_window \(8h, the default\)/],
    ["session_ttl too long, scoped mode", doc({ session_ttl: '"37h"' }), "profile.audit.session_ttl", /37h is out of range: scoped mode .* from 1m to 36h/],
    ["session_ttl too short, scoped mode", doc({ session_ttl: '"30s"' }), "profile.audit.session_ttl", /from 1m to 36h/],
    ["session_ttl too long, assume-role mode", doc({ role_arn: ASSUME_ROLE, session_ttl: '"2h"' }), "profile.audit.session_ttl", /assume-role mode \(role_arn is set\) .* from 15m to 1h/],
    ["session_ttl too short, assume-role mode", doc({ role_arn: ASSUME_ROLE, session_ttl: '"10m"' }), "profile.audit.session_ttl", /from 15m to 1h/],
    ["an unknown top-level table", doc({}, "[daemons]\nport = 1\n"), "daemons", /unknown key; did you mean daemon\? the top level takes daemon, sso, profile/],
    ["an unknown top-level key", doc({}, 'log_level = "debug"\n'), "log_level", /unknown key; the top level takes daemon, sso, profile/],
    ["an unknown key in [daemon]", doc({}, "[daemon]\nprot = 17810\n"), "daemon.prot", /did you mean port\? \[daemon\] takes port, keychain/],
    ["an unknown key in a profile", doc({ windw: '"30m"' }), "profile.audit.windw", /did you mean window\? \[profile\.audit\] takes sso, account_id, .*window/],
    ["an unknown key in an sso", doc({}, "", `${SSO}startURL = "x"\n`), "sso.corp.startURL", /\[sso\.corp\] takes start_url, region/],
    ["a malformed duration", doc({ window: '"30x"' }), "profile.audit.window", /"30x" is not a duration; use a number and a unit \(s, m, h, d\), like 30s, 30m, 2h, 1h30m/],
    ["a bare number as a duration", doc({ max_window: '"90"' }), "profile.audit.max_window", /"90" has no unit; use a number and a unit/],
    ["a duration that is a number", doc({ window: "30" }), "profile.audit.window", /must be a duration in quotes, like "30m".*not the integer 30/],
    ["a zero duration", doc({ window: '"0m"' }), "profile.audit.window", /is zero; a duration must be longer than zero/],
    ["a port too high", doc({}, "[daemon]\nport = 70000\n"), "daemon.port", /must be an integer from 0 to 65535 .*not the integer 70000/],
    ["a negative port", doc({}, "[daemon]\nport = -1\n"), "daemon.port", /from 0 to 65535/],
    ["a port in quotes", doc({}, '[daemon]\nport = "17810"\n'), "daemon.port", /must be an integer from 0 to 65535.*not the string "17810"/],
    ["a fractional port", doc({}, "[daemon]\nport = 17810.5\n"), "daemon.port", /must be an integer/],
    ["an unknown keychain", doc({}, '[daemon]\nkeychain = "file"\n'), "daemon.keychain", /must be "os" or "memory", not the string "file"/],
    ["a short account id", doc({ account_id: '"12345"' }), "profile.audit.account_id", /"12345" is not valid; use the 12-digit AWS account ID in quotes/],
    ["an account id as a number", doc({ account_id: "123456789012" }), "profile.audit.account_id", /must be the 12-digit AWS account ID in quotes, like "123456789012", not the integer/],
    ["a profile naming an undefined sso", doc({ sso: '"other"' }), "profile.audit.sso", /"other" is not defined; add an \[sso\.other\] table or name a defined one \(corp\)/],
    ["hours without timezone", doc({ hours: '"Mon-Fri 08:00-19:00"' }), "profile.audit.timezone", /missing; hours = "Mon-Fri 08:00-19:00" needs a timezone, an IANA name like "Europe\/Berlin"/],
    ["a bad timezone", doc({ hours: '"Mon-Fri 08:00-19:00"', timezone: '"Mars/Olympus_Mons"' }), "profile.audit.timezone", /"Mars\/Olympus_Mons" is not a time zone; use an IANA time zone name/],
    // Issue 13 item 5 and issue 14: what would otherwise load and then fail every request.
    ["a malformed hours", doc({ hours: '"Mon-Fri 8-19"', timezone: '"Europe/Berlin"' }), "profile.audit.hours", /hours "Mon-Fri 8-19": "Mon-Fri 8-19" is not a range; expected comma-separated ranges/],
    ["hours that cross midnight", doc({ hours: '"Mon 22:00-06:00"', timezone: '"UTC"' }), "profile.audit.hours", /ends before it starts/],
    ["a day that is not one", doc({ hours: '"Mon-Fry 08:00-19:00"', timezone: '"UTC"' }), "profile.audit.hours", /"Fry" is not a day/],
    [
      "a scope too large for one session policy",
      doc({ scope: `[${Array.from({ length: 40 }, (_, i) => `"big-bucket/team-${String(i).padStart(3, "0")}/data/"`).join(", ")}]` }),
      "profile.audit.scope",
      /the session policy for these 40 scope entries is \d+ characters, over STS's limit of 2048; the largest part is bucket "big-bucket" \(40 entries, \d+ characters\): drop at least \d+ of them/,
    ],
    ["a prefix longer than any S3 key", doc({ scope: `["reports", "big-bucket/${"k".repeat(1025)}"]` }), "profile.audit.scope[1]", /longer than an S3 key \(1024 bytes\)/],
    [
      "a KMS key of another partition",
      doc({ region: '"cn-north-1"', kms_keys: '["arn:aws:kms:cn-north-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"]' }),
      "profile.audit.kms_keys[0]",
      /is in the aws partition, but the profile's region is in aws-cn: S3 there can only use keys whose ARN starts "arn:aws-cn:kms:"/,
    ],
    ["a region in an isolated partition", doc({ region: '"us-isob-east-1"' }), "profile.audit.region", /isolated partition; s3jit writes policies for the aws, aws-cn and aws-us-gov partitions only/],
    ["an unknown grant", doc({ grant: '"auto"' }), "profile.audit.grant", /must be "explicit" or "on-demand"/],
    ["a string for a boolean", doc({ require_reason: '"yes"' }), "profile.audit.require_reason", /must be true or false \(without quotes\)/],
    ["a role ARN with a wildcard", doc({ role_arn: '"arn:aws:iam::123456789012:role/*"' }), "profile.audit.role_arn", /use an IAM role ARN, like "arn:aws:iam::123456789012:role\/s3-readonly-jit" \(no wildcards\)/],
    ["a role ARN of a user", doc({ role_arn: '"arn:aws:iam::123456789012:user/ann"' }), "profile.audit.role_arn", /IAM role ARN/],
    ["a KMS alias", doc({ kms_keys: '["arn:aws:kms:eu-west-1:123456789012:alias/s3"]' }), "profile.audit.kms_keys[0]", /KMS key ARN.*no aliases, no wildcards/],
    ["source_identity without role_arn", doc({ source_identity: "true" }), "profile.audit.source_identity", /assume-role mode only; set role_arn/],
    ["a region with capitals", doc({ region: '"EU-West-1"' }), "profile.audit.region", /use an AWS region name, like "eu-west-1"/],
    ["a missing account id", doc({ account_id: undefined }), "profile.audit.account_id", /missing; set account_id = "123456789012"/],
    ["a plain-http start_url", doc({}, "", `[sso.corp]\nstart_url = "http://corp.awsapps.com/start"\nregion = "eu-west-1"\n`), "sso.corp.start_url", /not an https:\/\/ URL; use the https:\/\/ URL of the AWS access portal/],
    ["an sso with neither start_url nor aws_sso_session", doc({}, "", '[sso.corp]\nregion = "eu-west-1"\n'), "sso.corp.start_url", /missing; set start_url = .*or aws_sso_session = "NAME"/],
    ["both aws_sso_session and start_url", doc({}, "", `${SSO}aws_sso_session = "corp"\n`), "sso.corp.start_url", /set either aws_sso_session .* or start_url and region, not both/],
    ["a profile name with a space", `${SSO}\n[profile."audit logs"]\nsso = "corp"\n`, 'profile."audit logs"', /is not a usable profile name; use 1 to 64 letters, digits/],
    ["a profile that is not a table", `${SSO}\n[profile]\naudit = "corp"\n`, "profile.audit", /must be a table \(\[profile\.audit\]\), not the string "corp"/],
    ["a TOML syntax error", `[daemon]\nport = 17810\nkeychain = os\n`, "line 3", /column \d+\); this is not valid TOML/],
    ["a __proto__ profile", `${SSO}\n[profile.__proto__]\nsso = "corp"\n`, "line 5", /not valid TOML/],
  ])("%s", (_name, text, key, allowed) => {
    const err = errorOf(text);
    expect(err.key).toBe(key);
    expect(err.file).toBe(FILE);
    expect(err.code).toBe("ConfigInvalid");
    expect(err.message).toContain(FILE);
    expect(err.message).toContain(`: ${key}: `);
    expect(err.message).toMatch(allowed);
  });
});

describe("a valid config", () => {
  it("gets the documented defaults", () => {
    const config = parseConfig(doc(), FILE, NO_AWS);
    expect(config.file).toBe(FILE);
    expect(config.daemon).toEqual({ port: 17810, keychain: "os" });
    expect(config.sso.corp).toEqual({
      name: "corp",
      startUrl: "https://corp.awsapps.com/start",
      region: "eu-west-1",
      scopes: ["sso:account:access"],
      autoLogin: false,
    });
    expect(config.profiles.audit).toEqual({
      name: "audit",
      sso: "corp",
      accountId: "123456789012",
      ssoRole: "S3JitBase",
      region: "eu-west-1",
      scope: [{ bucket: "reports", prefix: "" }],
      kmsKeys: [],
      window: 3600_000,
      maxWindow: 8 * 3600_000,
      sessionTtl: 3600_000,
      grant: "explicit",
      requireReason: false,
      sourceIdentity: false,
    });
  });

  it("loads an empty file as a daemon with nothing configured", () => {
    expect(parseConfig("", FILE, NO_AWS)).toEqual({ file: FILE, daemon: { port: 17810, keychain: "os" }, sso: {}, profiles: {} });
  });

  it("shortens the default window to a max_window below one hour", () => {
    const p = parseConfig(doc({ max_window: '"20m"' }), FILE, NO_AWS).profiles.audit;
    expect(p?.window).toBe(20 * 60_000);
    expect(p?.maxWindow).toBe(20 * 60_000);
  });

  it("splits scopes into bucket and prefix", () => {
    const p = parseConfig(doc({ scope: '["bucket", "bucket/a/b/", "logs.example.com/2026", "bucket/"]' }), FILE, NO_AWS).profiles.audit;
    expect(p?.scope).toEqual([
      { bucket: "bucket", prefix: "" },
      { bucket: "bucket", prefix: "a/b/" },
      { bucket: "logs.example.com", prefix: "2026" },
      { bucket: "bucket", prefix: "" },
    ]);
  });

  it("reads every setting of an assume-role profile", () => {
    const text = doc(
      {
        role_arn: '"arn:aws:iam::210987654321:role/jit/s3-readonly"',
        kms_keys: '["arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"]',
        window: '"30m"',
        max_window: '"2h"',
        session_ttl: '"15m"',
        grant: '"on-demand"',
        require_reason: "true",
        hours: '"Mon-Fri 08:00-19:00"',
        timezone: '"Europe/Berlin"',
        source_identity: "true",
      },
      '[daemon]\nport = 0\nkeychain = "memory"\n',
      `${SSO}auto_login = true\nregistration_scopes = ["codewhisperer:completions", "sso:account:access"]\n`,
    );
    const config = parseConfig(text, FILE, NO_AWS);
    expect(config.daemon).toEqual({ port: 0, keychain: "memory" });
    expect(config.sso.corp?.autoLogin).toBe(true);
    expect(config.sso.corp?.scopes).toEqual(["sso:account:access", "codewhisperer:completions"]);
    expect(config.profiles.audit).toMatchObject({
      roleArn: "arn:aws:iam::210987654321:role/jit/s3-readonly",
      kmsKeys: ["arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"],
      window: 30 * 60_000,
      maxWindow: 2 * 3600_000,
      sessionTtl: 15 * 60_000,
      grant: "on-demand",
      requireReason: true,
      hours: "Mon-Fri 08:00-19:00",
      timezone: "Europe/Berlin",
      sourceIdentity: true,
    });
  });

  it("loads a scope in any script, and regions of the China and GovCloud partitions", () => {
    const cfg = parseConfig(doc({ scope: '["intl/レポート/2026/", "reports"]' }), FILE, NO_AWS);
    expect(cfg.profiles.audit!.scope[0]).toEqual({ bucket: "intl", prefix: "レポート/2026/" });
    for (const region of ["cn-north-1", "us-gov-west-1"]) {
      expect(parseConfig(doc({ region: `"${region}"` }), FILE, NO_AWS).profiles.audit!.region).toBe(region);
    }
  });

  it("accepts the session_ttl limits of scoped mode", () => {
    expect(parseConfig(doc({ session_ttl: '"36h"' }), FILE, NO_AWS).profiles.audit?.sessionTtl).toBe(36 * 3600_000);
    expect(parseConfig(doc({ session_ttl: '"1m"' }), FILE, NO_AWS).profiles.audit?.sessionTtl).toBe(60_000);
  });

  it("finds no profile by a name every plain object has", () => {
    const config = parseConfig(doc(), FILE, NO_AWS);
    expect(config.profiles.constructor).toBeUndefined();
    expect(config.sso.toString).toBeUndefined();
    expect(Object.hasOwn(config.profiles, "audit")).toBe(true);
  });

  it("resolves a relative file name", () => {
    expect(parseConfig("", "config.toml", NO_AWS).file).toBe(path.resolve("config.toml"));
  });
});

describe("reusing an [sso-session] of the AWS CLI config", () => {
  const awsConfig = path.join(tmp, "aws-config");
  writeFileSync(
    awsConfig,
    [
      "# AWS CLI config",
      "[default]",
      "region = us-east-1",
      "",
      "[profile dev]",
      "sso_session = corp",
      "sso_account_id = 123456789012",
      "s3 =",
      "  max_concurrent_requests = 20",
      "",
      "[sso-session corp]",
      "; the portal URL as copied from the browser",
      "sso_start_url = https://d-1234567890.awsapps.com/start/#/",
      "SSO_Region = eu-central-1",
      "sso_registration_scopes = sso:account:access, codewhisperer:completions",
      "",
      "[sso-session   other]",
      "sso_start_url = https://other.awsapps.com/start",
      "",
      "[sso-session broken]",
      "sso_start_url = https://broken.awsapps.com/start",
      "sso_region = Frankfurt",
      "",
    ].join("\r\n"),
  );
  const reuse = (name: string) => `[sso.corp]\naws_sso_session = "${name}"\nauto_login = true\n`;

  it("takes start URL, region and scopes from it", () => {
    const config = parseConfig(reuse("corp"), FILE, { awsConfigFile: awsConfig });
    expect(config.sso.corp).toEqual({
      name: "corp",
      startUrl: "https://d-1234567890.awsapps.com/start/#/",
      region: "eu-central-1",
      scopes: ["sso:account:access", "codewhisperer:completions"],
      awsSsoSession: "corp",
      autoLogin: true,
    });
  });

  it("finds the file through AWS_CONFIG_FILE when none is given", () => {
    const config = parseConfig(reuse("corp"), FILE, { env: { AWS_CONFIG_FILE: awsConfig } });
    expect(config.sso.corp?.startUrl).toBe("https://d-1234567890.awsapps.com/start/#/");
    const elsewhere = path.join(tmp, "elsewhere");
    expect(() => parseConfig(reuse("corp"), FILE, { env: { AWS_CONFIG_FILE: elsewhere } })).toThrow(`cannot read the AWS CLI config ${elsewhere}`);
  });

  it.each<[string, string, { awsConfigFile: string }, RegExp]>([
    ["a session that is not there", "nope", { awsConfigFile: awsConfig }, /there is no \[sso-session nope\] in .*aws-config \(sso-sessions there: corp, other, broken\); name one of them, or set start_url and region here instead/],
    ["a session without sso_region", "other", { awsConfigFile: awsConfig }, /\[sso-session other\] in .*aws-config has no sso_region; add it there, or set start_url and region here instead/],
    ["a session with a bad region", "broken", { awsConfigFile: awsConfig }, /sso_region of \[sso-session broken\] in .*aws-config: "Frankfurt" is not valid; use an AWS region name/],
    ["a missing AWS config file", "corp", NO_AWS, /cannot read the AWS CLI config .*no-such-aws-config \(ENOENT\); point AWS_CONFIG_FILE at it, or set start_url and region here instead/],
  ])("refuses %s, naming the AWS config file", (_name, session, opts, reason) => {
    const err = errorOf(reuse(session), opts);
    expect(err.key).toBe("sso.corp.aws_sso_session");
    expect(err.message).toContain(FILE);
    expect(err.message).toMatch(reason);
  });

  it("does not read the AWS CLI config when no [sso] asks for it", () => {
    expect(() => parseConfig(doc(), FILE, NO_AWS)).not.toThrow();
  });
});

describe("loadConfig", () => {
  it("reads the file and names it in the result", () => {
    const file = path.join(tmp, "config.toml");
    writeFileSync(file, doc({ window: '"45m"' }));
    const config = loadConfig(file, NO_AWS);
    expect(config.file).toBe(file);
    expect(config.profiles.audit?.window).toBe(45 * 60_000);
  });

  it("says where it looked and that s3jit needs a config file", () => {
    const file = path.join(tmp, "missing", "config.toml");
    let err: unknown;
    try {
      loadConfig(file, NO_AWS);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).message).toContain(file);
    expect((err as ConfigError).message).toMatch(/not found; s3jit needs a config file: create this one, .*with `s3jit init`/);
    expect((err as ConfigError).message).toMatch(/name another file with S3JIT_CONFIG or --config/);
  });

  it("names the file in errors about its content", () => {
    const file = path.join(tmp, "bad.toml");
    writeFileSync(file, doc({ scope: '["reports/*"]' }));
    expect(() => loadConfig(file, NO_AWS)).toThrow(`${file}: profile.audit.scope[0]: `);
  });
});

describe("exampleConfig", () => {
  it("loads, and shows a profile using every kind of setting", () => {
    const config = parseConfig(exampleConfig(), FILE, NO_AWS);
    expect(Object.keys(config.sso)).toEqual(["corp"]);
    expect(config.profiles.audit).toMatchObject({
      scope: [
        { bucket: "audit-logs", prefix: "2026/" },
        { bucket: "reports", prefix: "" },
      ],
      window: 30 * 60_000,
      maxWindow: 2 * 3600_000,
      requireReason: true,
      timezone: "Europe/Berlin",
    });
  });

  it("mentions every key the loader accepts", () => {
    const keys = [
      "port", "keychain", "start_url", "region", "auto_login", "registration_scopes", "aws_sso_session",
      "sso", "account_id", "sso_role", "role_arn", "scope", "kms_keys", "window", "max_window", "session_ttl",
      "grant", "require_reason", "hours", "timezone", "source_identity",
    ];
    for (const key of keys) expect(exampleConfig()).toMatch(new RegExp(`^#? ?${key} = `, "m"));
  });
});
