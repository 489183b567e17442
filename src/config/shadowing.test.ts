import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { parseAwsIni } from "./aws-config.js";
import { contentKey, findShadowing, isCredentialKey, isolate, IsolationError, settingsConfig } from "./shadowing.js";

let dir: string;
let home: string;
const awsDir = () => path.join(dir, "run", "aws");
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), "s3jit-shadow-"));
  home = path.join(dir, "home");
  mkdirSync(path.join(home, ".aws"), { recursive: true });
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const write = (name: "config" | "credentials", text: string) => writeFileSync(path.join(home, ".aws", name), text);

describe("parseAwsIni", () => {
  it("reads sections, lower-cased keys, nested blocks, and keeps a # inside a value", () => {
    const text = "top = ignored\n[default]\r\nRegion = eu-west-1\n# comment\n; comment\ns3 =\n  addressing_style = path\n  use_accelerate_endpoint = false\n[profile   work]\nsso_start_url = https://corp.awsapps.com/start#/\n";
    expect(parseAwsIni(text)).toEqual([
      {
        name: "default",
        entries: [
          { key: "region", value: "eu-west-1", nested: [] },
          { key: "s3", value: "", nested: ["addressing_style = path", "use_accelerate_endpoint = false"] },
        ],
      },
      { name: "profile work", entries: [{ key: "sso_start_url", value: "https://corp.awsapps.com/start#/", nested: [] }] },
    ]);
  });
});

describe("isCredentialKey", () => {
  it.each([
    ["aws_access_key_id", true],
    ["aws_secret_access_key", true],
    ["aws_session_token", true],
    ["aws_account_id", true],
    ["credential_process", true],
    ["credential_source", true],
    ["sso_session", true],
    ["sso_start_url", true],
    ["sso_account_id", true],
    ["role_arn", true],
    ["role_session_name", true],
    ["source_profile", true],
    ["web_identity_token_file", true],
    ["mfa_serial", true],
    ["external_id", true],
    ["duration_seconds", true],
    ["login_session", true],
    ["region", false],
    ["s3", false],
    ["ca_bundle", false],
    ["retry_mode", false],
    ["max_attempts", false],
    ["endpoint_url", false],
    ["services", false],
    ["output", false],
    ["use_fips_endpoint", false],
  ])("%s → %s", (key, yes) => expect(isCredentialKey(key)).toBe(yes));
});

describe("settingsConfig: the user's settings for a profile, credentials taken out", () => {
  const config = parseAwsIni(
    "[default]\nregion = eu-central-1\ncredential_process = /bin/creds\nca_bundle = ~/corp-ca.pem\ns3 =\n  addressing_style = virtual\n" +
      "[profile work]\nregion = us-west-2\nrole_arn = arn:aws:iam::1:role/x\nsource_profile = default\nservices = local\nmax_attempts = 7\n" +
      "[services local]\ns3 =\n  endpoint_url = http://127.0.0.1:9000\n[sso-session corp]\nsso_start_url = https://x\n[plugins]\ncli_legacy_plugin_path = /x\n",
  );
  const credentials = parseAwsIni("[default]\naws_access_key_id = AKIA-x\naws_secret_access_key = y\n[work]\naws_access_key_id = AKIA-w\nretry_mode = adaptive\n");

  it("[default]", () => {
    expect(settingsConfig(config, credentials, "default", "eu-west-1", "# h")).toBe("# h\n[default]\nregion = eu-central-1\nca_bundle = ~/corp-ca.pem\ns3 =\n    addressing_style = virtual\n");
  });

  it("a named profile becomes [default], with the credentials file's settings and the [services] it names", () => {
    expect(settingsConfig(config, credentials, "work", "eu-west-1", "# h")).toBe(
      "# h\n[default]\nregion = us-west-2\nservices = local\nmax_attempts = 7\nretry_mode = adaptive\n\n[services local]\ns3 =\n    endpoint_url = http://127.0.0.1:9000\n",
    );
  });

  it("no region of the user's: the s3jit profile's, marked as such", () => {
    expect(settingsConfig([], [], "default", "eu-west-1", "# h")).toBe("# h\n[default]\n# region: the s3jit profile's (yours names none)\nregion = eu-west-1\n");
  });
});

describe("findShadowing: file, section, keys; variable", () => {
  it("names each source with where it is", () => {
    write("config", "[default]\nregion = eu-west-1\nsso_session = corp\nsso_account_id = 1\nsso_role_name = R\n[profile work]\nrole_arn = arn:aws:iam::1:role/x\nsource_profile = default\n[profile unused]\ncredential_process = /x\n");
    write("credentials", "[default]\naws_access_key_id = AKIA-x\naws_secret_access_key = y\n");
    const found = findShadowing({ HOME: home, AWS_PROFILE: "work", AWS_ACCESS_KEY_ID: "AKIA-e", AWS_SECRET_ACCESS_KEY: "s", AWS_CONTAINER_CREDENTIALS_RELATIVE_URI: "/v2/x", JAVA_TOOL_OPTIONS: "-Xmx1g -Daws.accessKeyId=AKIA-j" });
    const config = path.join(home, ".aws", "config");
    const credentials = path.join(home, ".aws", "credentials");
    expect(found).toEqual([
      { where: "environment", keys: ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"], what: "static keys", isolable: true },
      { where: "environment", keys: ["AWS_PROFILE"], what: "chooses a profile of the shared files", isolable: true },
      { where: "environment", keys: ["AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"], what: "the ECS task endpoint, which every SDK prefers to a full URI", isolable: true },
      { where: "environment", keys: ["JAVA_TOOL_OPTIONS"], what: "the Java system property aws.accessKeyId", isolable: false },
      { where: config, section: "default", keys: ["sso_session", "sso_account_id", "sso_role_name"], what: "an IAM Identity Center (SSO) login", isolable: true },
      { where: config, section: "profile work", keys: ["role_arn", "source_profile"], what: "a role assumed with other credentials", isolable: true },
      { where: credentials, section: "default", keys: ["aws_access_key_id", "aws_secret_access_key"], what: "static keys", isolable: true },
    ]);
  });

  it("nothing on a clean machine", () => {
    expect(findShadowing({ HOME: home })).toEqual([]);
  });
});

describe("isolate", () => {
  const opts = () => ({ dir: awsDir(), profile: "audit", region: "eu-west-1" });

  it("writes 0600 files in a 0700 folder", () => {
    const iso = isolate({ HOME: home }, opts());
    expect(statSync(awsDir()).mode & 0o777).toBe(0o700);
    expect(statSync(iso.set.AWS_CONFIG_FILE).mode & 0o777).toBe(0o600);
    expect(statSync(iso.set.AWS_SHARED_CREDENTIALS_FILE).mode & 0o777).toBe(0o600);
    expect(readFileSync(iso.set.AWS_CONFIG_FILE, "utf8")).toContain('# Written by s3jit for profile "audit"');
  });

  it("refuses an aws.* Java property it cannot take away", () => {
    expect(() => isolate({ HOME: home, JDK_JAVA_OPTIONS: "-Daws.profile=prod" }, opts())).toThrow(
      new IsolationError("JDK_JAVA_OPTIONS sets the Java system property aws.profile, which Java SDKs use before s3jit's endpoint; remove it from JDK_JAVA_OPTIONS"),
    );
  });

  it.skipIf(process.getuid?.() === 0)("refuses a config it cannot read (the user's settings would be lost); not as root, whom file modes do not stop", () => {
    write("config", "[default]\nregion = eu-west-1\n");
    chmodSync(path.join(home, ".aws", "config"), 0);
    expect(() => isolate({ HOME: home }, opts())).toThrow(/cannot read .*\.aws\/config \(EACCES\) to carry your settings over/);
  });

  it("refuses a config path that is a folder", () => {
    expect(() => isolate({ HOME: home, AWS_CONFIG_FILE: home }, opts())).toThrow(/cannot read .* \(EISDIR\)/);
  });

  it("refuses when the files cannot be written", () => {
    writeFileSync(path.join(dir, "run"), "a file where the folder should be");
    expect(() => isolate({ HOME: home }, opts())).toThrow(/cannot write the session's AWS config files in .*run\/aws/);
  });
});

describe("contentKey (the name of a carried-over settings file)", () => {
  it("is 64-bit FNV-1a of the UTF-8 bytes, as 16 hex digits", () => {
    // The published FNV-1a 64 test vectors.
    expect(contentKey("")).toBe("cbf29ce484222325");
    expect(contentKey("a")).toBe("af63dc4c8601ec8c");
    expect(contentKey("foobar")).toBe("85944171f73967e8");
    // Bytes, not UTF-16 code units: "é" is two bytes.
    expect(contentKey("é")).toBe("0ac21707b7181e01"); // the bytes C3 A9 (the code unit E9 would give another)
    expect(contentKey("[default]\nregion = eu-west-1\n")).toMatch(/^[0-9a-f]{16}$/);
  });

  it("differs for texts one character apart and is the same for equal texts", () => {
    const base = "[default]\nregion = eu-west-1\noutput = json\n";
    expect(contentKey(base)).toBe(contentKey(`${base}`));
    const keys = new Set(Array.from({ length: 1000 }, (_, i) => contentKey(base.replace("1", String(i)))));
    expect(keys.size).toBe(1000);
  });
});
