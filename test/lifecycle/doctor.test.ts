import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import http from "node:http";
import path from "node:path";
import type { AddressInfo } from "node:net";
import { startStack, type Stack } from "../helpers/stack.js";

describe("s3jit doctor", () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ aws: "none" });
  });
  afterAll(async () => {
    await stack?.close();
  });

  it("before login: every check runs, the login check fails with its fix, exit 1", async () => {
    const r = await stack.cli(["doctor"]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/ok\s+config: .*config\.toml: 1 profile/);
    expect(r.stdout).toMatch(/ok\s+daemon: running, pid \d+/);
    expect(r.stdout).toMatch(/FAIL login corp: .*\n\s+fix: s3jit login corp/);
    expect(r.stdout).toMatch(/ok\s+endpoint audit: .*WindowClosed/);
    expect(r.stdout).toMatch(/ok\s+clock: -?\d+ s against 127\.0\.0\.1/);
  });

  it("after login: all green, exit 0; --json lists the checks", async () => {
    expect((await stack.cli(["login", "--no-browser"])).code).toBe(0);
    const r = await stack.cli(["doctor", "--json"]);
    expect(r.code, r.stdout).toBe(0);
    const out = JSON.parse(r.stdout) as { ok: boolean; checks: Array<{ name: string; ok: boolean }> };
    expect(out.ok).toBe(true);
    expect(out.checks.map((c) => c.name)).toEqual(["config", "keychain", "daemon", "login corp", "endpoint audit", "policy audit", "clock", "shadowing", "aws cli", "botocore"]);
  });

  it("a clean HOME: nothing shadows s3jit", async () => {
    const r = await stack.cli(["doctor"], { env: { PATH: fakeBin({}) } });
    expect(r.stdout).toContain(`ok   shadowing: nothing in ${stack.env.HOME}/.aws/config, ${stack.env.HOME}/.aws/credentials or the environment comes before s3jit's endpoint\n`);
  });

  it("a lived-in HOME: names every shadowing source (file, section, keys; variables) and the fix", async () => {
    const home = path.join(stack.dir, "lived-in");
    mkdirSync(path.join(home, ".aws"), { recursive: true });
    writeFileSync(
      path.join(home, ".aws", "config"),
      "[default]\nregion = eu-central-1\ncredential_process = /opt/bin/creds\n[profile work]\nsso_session = corp\nsso_account_id = 123456789012\nsso_role_name = Admin\n" +
        "[profile ci]\nrole_arn = arn:aws:iam::123456789012:role/Deploy\nweb_identity_token_file = /run/token\n[sso-session corp]\nsso_start_url = https://corp.awsapps.com/start\n",
    );
    writeFileSync(path.join(home, ".aws", "credentials"), "[default]\naws_access_key_id = AKIA-laptop\naws_secret_access_key = x\n[work]\nrole_arn = arn:aws:iam::123456789012:role/Admin\nsource_profile = default\n");
    const r = await stack.cli(["doctor"], {
      env: {
        HOME: home,
        PATH: fakeBin({}),
        AWS_PROFILE: "work",
        AWS_ACCESS_KEY_ID: "AKIA-env",
        AWS_SECRET_ACCESS_KEY: "x",
        AWS_SESSION_TOKEN: "y",
        AWS_WEB_IDENTITY_TOKEN_FILE: "/run/token",
        AWS_ROLE_ARN: "arn:aws:iam::123456789012:role/Deploy",
        AWS_CONTAINER_CREDENTIALS_RELATIVE_URI: "/v2/credentials/x",
        AWS_CONTAINER_AUTHORIZATION_TOKEN: "t",
        AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE: "/t",
        JAVA_TOOL_OPTIONS: "-Daws.secretAccessKey=x",
      },
    });
    // A Java property is a failure (exec and env refuse to run with it); the rest are warnings.
    expect(r.code).toBe(1);
    const lines = r.stdout.split("\n").filter((l) => l.startsWith("warn shadowing") || l.startsWith("FAIL shadowing"));
    const config = path.join(home, ".aws", "config");
    const credentials = path.join(home, ".aws", "credentials");
    expect(lines).toEqual([
      "warn shadowing: environment AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN: static keys",
      "warn shadowing: environment AWS_PROFILE: chooses a profile of the shared files",
      "warn shadowing: environment AWS_WEB_IDENTITY_TOKEN_FILE, AWS_ROLE_ARN: a web identity (OIDC) role",
      "warn shadowing: environment AWS_CONTAINER_CREDENTIALS_RELATIVE_URI: the ECS task endpoint, which every SDK prefers to a full URI",
      "FAIL shadowing: environment JAVA_TOOL_OPTIONS: the Java system property aws.secretAccessKey",
      `warn shadowing: ${config} [default] credential_process: a credential process`,
      `warn shadowing: ${config} [profile work] sso_session, sso_account_id, sso_role_name: an IAM Identity Center (SSO) login`,
      `warn shadowing: ${credentials} [default] aws_access_key_id, aws_secret_access_key: static keys`,
      `warn shadowing: ${credentials} [work] role_arn, source_profile: a role assumed with other credentials`,
      "warn shadowing: both AWS_CONTAINER_AUTHORIZATION_TOKEN and AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE are set: JS v3 and Java v2 send the variable, the other SDKs read the file, and JS v3 warns",
    ]);
    expect(r.stdout).toContain(`[default] credential_process: a credential process\n     fix: \`s3jit exec PROFILE -- CMD\` and \`eval "$(s3jit env PROFILE)"\` keep it away; move it out of [default] into a named profile so that no SDK uses it unasked\n`);
    expect(r.stdout).toContain("AWS_PROFILE: chooses a profile of the shared files\n     fix: `s3jit exec PROFILE -- CMD` and `eval \"$(s3jit env PROFILE)\"` keep it away; or `unset AWS_PROFILE`\n");
    expect(r.stdout).toContain("aws.secretAccessKey\n     fix: remove the -Daws.… property from JAVA_TOOL_OPTIONS; exec and env refuse to run while it is there\n");
    // Not checked: [profile ci] is neither [default] nor AWS_PROFILE's, so no SDK reaches it unasked.
    expect(r.stdout).not.toContain("[profile ci]");
  });

  it.each([
    ["aws-cli/2.9.19 Python/3.11.2 Linux/6.1 source/x86_64.debian.12 prompt/off", "1.29.27", "ok   aws cli: aws-cli/2.9.19 takes credentials from s3jit's endpoint", "ok   botocore: botocore 1.29.27 (boto3) takes credentials from s3jit's endpoint"],
    [
      "aws-cli/2.8.3 Python/3.9.11 Linux/5.15 exe/x86_64.ubuntu.22",
      "1.27.59",
      "warn aws cli: aws-cli/2.8.3 is older than AWS CLI 2.9 / botocore 1.29, the oldest that s3jit's endpoint is known to work with\n     fix: upgrade the AWS CLI",
      "warn botocore: botocore 1.27.59 (boto3) is older than 1.29, the oldest that s3jit's endpoint is known to work with\n     fix: python3 -m pip install --upgrade boto3 botocore",
    ],
    ["aws-cli/1.27.40 Python/3.10.6 Linux/5.15 botocore/1.29.40", undefined, "ok   aws cli: aws-cli/1.27.40 (botocore 1.29.40) takes credentials", "ok   botocore: no botocore for the `python3` on PATH"],
    ["aws-cli/1.25.90 Python/3.10.6 Linux/5.15 botocore/1.27.89", undefined, "warn aws cli: aws-cli/1.25.90 (botocore 1.27.89) is older than", "ok   botocore: no botocore"],
  ])("AWS CLI %s, botocore %s", async (awsVersion, botocore, cliLine, botocoreLine) => {
    const r = await stack.cli(["doctor"], { env: { PATH: fakeBin({ aws: awsVersion, botocore }) } });
    expect(r.stdout).toContain(cliLine);
    expect(r.stdout).toContain(botocoreLine);
  });

  /**
   * A PATH whose `aws` and `python3` print the given versions (as the real ones do: AWS CLI v1
   * on stderr), or are absent: the versions installed on a user's machine, which a test cannot
   * install. Only the folder with node for the CLI's own children follows.
   */
  function fakeBin(v: { aws?: string; botocore?: string }): string {
    const dir = mkdtempSync(path.join(stack.dir, "bin-"));
    if (v.aws) writeFileSync(path.join(dir, "aws"), `#!/bin/sh\necho '${v.aws}' ${v.aws.startsWith("aws-cli/1.") ? ">&2" : ""}\n`, { mode: 0o755 });
    if (v.botocore) writeFileSync(path.join(dir, "python3"), `#!/bin/sh\necho '${v.botocore}'\n`, { mode: 0o755 });
    return dir;
  }

  it("a clock ten minutes off STS's fails with the fix", async () => {
    // Stands in for STS at the network boundary: any answer carries the server's Date.
    const sts = http.createServer((_req, res) => {
      res.sendDate = false;
      res.writeHead(403, { date: new Date(Date.now() + 10 * 60_000).toUTCString(), "content-type": "text/xml" });
      res.end("<ErrorResponse/>");
    });
    await new Promise<void>((r) => sts.listen(0, "127.0.0.1", r));
    try {
      const r = await stack.cli(["doctor"], { env: { AWS_ENDPOINT_URL_STS: `http://127.0.0.1:${(sts.address() as AddressInfo).port}/` } });
      expect(r.code).toBe(1);
      expect(r.stdout).toMatch(/FAIL clock: -?(59\d|600|60\d) s against 127\.0\.0\.1:\d+\n\s+fix: turn on time synchronisation/);
    } finally {
      sts.close();
    }
  });

  it("shows each profile's session policy size against STS's 2048 characters", async () => {
    const r = await stack.cli(["doctor"]);
    const size = /ok\s+policy audit: the session policy is (\d+) of 2048 characters\n/.exec(r.stdout);
    expect(size, r.stdout).not.toBeNull();
    const st = JSON.parse((await stack.cli(["status", "--json"])).stdout) as { profiles: { audit: { policy: { chars: number } } } };
    expect(Number(size![1])).toBe(st.profiles.audit.policy.chars);
  });

  it("shows the managed policy in force, and flags one its user can change as not a control", async () => {
    const policy = path.join(stack.dir, "managed.toml");
    writeFileSync(policy, `[profiles]\nmax_window = "4h"\nrequire_reason = true\n`, { mode: 0o644 });
    const { chmodSync, chownSync } = await import("node:fs");
    const env = { S3JIT_MANAGED_POLICY: policy };
    let r = await stack.cli(["doctor"], { env });
    if (process.getuid?.() === 0) {
      // Root-owned and writable by root alone: a control.
      expect(r.stdout).toContain(`ok   managed policy: ${policy} is in force: maxWindow 4h; requireReason true\n`);
      chownSync(policy, 1000, 1000);
    }
    r = await stack.cli(["doctor"], { env });
    expect(r.stdout).toMatch(new RegExp(`warn managed policy: ${policy} is in force: .* — but it is not a control: it belongs to uid \\d+, not root`));
    expect(r.stdout).toContain(`fix: have it owned by root and writable by no one else (sudo chown root ${policy} && sudo chmod 644 ${policy})`);
    if (process.getuid?.() === 0) {
      chownSync(policy, 0, 0);
      chmodSync(policy, 0o666);
      r = await stack.cli(["doctor"], { env });
      expect(r.stdout).toMatch(/not a control: it is writable by group or others \(mode 0666\)/);
    }
  });

  it("with no daemon: says how to start it", async () => {
    await stack.stopDaemon();
    const r = await stack.cli(["doctor"]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/FAIL daemon: .*not running[^\n]*\n\s+fix: start it: `s3jit daemon`/);
    await stack.startDaemon();
  });

  it("a broken config and an unusable keychain each say what to do", async () => {
    const broken = await startStack({ startDaemon: false, keychain: "os", extraToml: "\n[profile.x]\nwindow = \"forever\"\n" });
    try {
      let r = await broken.cli(["doctor"], { env: { DBUS_SESSION_BUS_ADDRESS: "unix:path=/nonexistent/bus" } });
      expect(r.code).toBe(1);
      expect(r.stdout).toMatch(/FAIL config: .*profile\.x/);
      const { readFileSync, writeFileSync } = await import("node:fs");
      writeFileSync(broken.configFile, readFileSync(broken.configFile, "utf8").replace(/\n\[profile\.x\][^]*$/, "\n"));
      r = await broken.cli(["doctor"], { env: { DBUS_SESSION_BUS_ADDRESS: "unix:path=/nonexistent/bus" } });
      expect(r.stdout).toMatch(/FAIL keychain: .*\n\s+fix: start or unlock your keyring, or set keychain = "memory"/);
    } finally {
      await broken.close();
    }
  });
});
