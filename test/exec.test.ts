import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { CLI, startStack, type Stack } from "./helpers/stack.js";

describe("s3jit exec PROFILE -- CMD", () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack();
  });
  afterAll(async () => {
    await stack?.close();
  });

  it("sets the endpoint and one token variable, and removes the ones that would shadow them", async () => {
    const vars = ["AWS_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_ARN", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"];
    const r = await stack.cli(["exec", "audit", "--", "sh", "-c", `echo "$AWS_CONTAINER_CREDENTIALS_FULL_URI|$AWS_CONTAINER_AUTHORIZATION_TOKEN|${vars.map((v) => `\${${v}-unset}`).join("|")}"`], {
      env: { AWS_PROFILE: "prod", AWS_ACCESS_KEY_ID: "AKIDEXAMPLE", AWS_WEB_IDENTITY_TOKEN_FILE: "/t", AWS_ROLE_ARN: "arn:aws:iam::1:role/x", AWS_CONTAINER_CREDENTIALS_RELATIVE_URI: "/v2/x", AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE: "/stale" },
    });
    expect(r.code, r.stderr).toBe(0);
    const [url, token, ...rest] = r.stdout.trim().split("|");
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/v1\/credentials\/audit$/);
    expect(token!.length).toBeGreaterThanOrEqual(43);
    expect(rest).toEqual(vars.map(() => "unset"));
  });

  it("gives the command its own shared files: the user's settings without credentials, 0600 in a 0700 folder", async () => {
    const home = path.join(stack.dir, "lived-in");
    mkdirSync(path.join(home, ".aws"), { recursive: true });
    writeFileSync(path.join(home, ".aws", "config"), "[default]\nregion = eu-central-1\ncredential_process = /bin/false\n[profile work]\nregion = us-east-2\nsso_session = corp\ns3 =\n  addressing_style = path\n");
    writeFileSync(path.join(home, ".aws", "credentials"), "[default]\naws_access_key_id = AKIA-standing\naws_secret_access_key = x\n");
    const r = await stack.cli(["exec", "audit", "--", "sh", "-c", 'cat "$AWS_CONFIG_FILE"; echo ---; cat "$AWS_SHARED_CREDENTIALS_FILE"; echo ---; echo "$AWS_CONFIG_FILE|$AWS_SHARED_CREDENTIALS_FILE"'], {
      env: { HOME: home, AWS_PROFILE: "work" },
    });
    expect(r.code, r.stderr).toBe(0);
    const [config, credentials, files] = r.stdout.split("---\n");
    const [configFile, credentialsFile] = files!.trim().split("|");
    const modes = [configFile!, credentialsFile!, path.dirname(configFile!)].map((f) => (statSync(f).mode & 0o777).toString(8)).join("\n") + "\n";
    expect(config).toMatch(/^# Written by s3jit for profile "audit": your settings from .*lived-in\/\.aws\/config \[profile work\] without any credentials\.\n/);
    expect(config).toMatch(/\[default\]\nregion = us-east-2\ns3 =\n {4}addressing_style = path\n$/);
    expect(credentials).toBe("");
    expect(modes).toBe("600\n600\n700\n");
  });

  it("refuses to run the command when it cannot keep other credentials away, and says why", async () => {
    const marker = path.join(stack.dir, "ran");
    const java = await stack.cli(["exec", "audit", "--", "touch", marker], { env: { JAVA_TOOL_OPTIONS: "-Xmx1g -Daws.accessKeyId=AKIA-java" } });
    expect(java.code).toBe(1);
    expect(java.stderr).toBe(
      "s3jit exec: not running touch: it could get other credentials than profile audit's session: JAVA_TOOL_OPTIONS sets the Java system property aws.accessKeyId, which Java SDKs use before s3jit's endpoint; remove it from JAVA_TOOL_OPTIONS\n",
    );
    const unreadable = await stack.cli(["exec", "audit", "--", "touch", marker], { env: { AWS_CONFIG_FILE: stack.dir } });
    expect(unreadable.code).toBe(1);
    expect(unreadable.stderr).toMatch(/not running touch: .*cannot read .* \(EISDIR\) to carry your settings over/);
    expect(existsSync(marker)).toBe(false);
    // `s3jit env` the same: nothing for the shell to evaluate, the reason on stderr.
    const env = await stack.cli(["env", "audit"], { env: { JDK_JAVA_OPTIONS: "-Daws.profile=prod" } });
    expect(env.code).toBe(1);
    expect(env.stdout).toBe("");
    expect(env.stderr).toContain("JDK_JAVA_OPTIONS sets the Java system property aws.profile");
  });

  it("passes the command's exit code through", async () => {
    expect((await stack.cli(["exec", "audit", "--", "sh", "-c", "exit 7"])).code).toBe(7);
  });

  it("forwards SIGTERM to the command and exits with its code", async () => {
    const child = spawn(process.execPath, [CLI, "exec", "audit", "--", "sh", "-c", 'trap "echo got-term; exit 42" TERM; echo ready; while true; do sleep 0.1; done'], {
      env: stack.env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    await new Promise<void>((resolve) =>
      child.stdout.on("data", (d: Buffer) => {
        out += d.toString();
        if (out.includes("ready")) resolve();
      }),
    );
    child.kill("SIGTERM");
    // "close", not "exit": exit can come before the last output is read.
    const code = await new Promise<number | null>((r) => child.on("close", (c) => r(c)));
    expect(out).toContain("got-term");
    expect(code).toBe(42);
  });

  it("says so when the command does not exist (127)", async () => {
    const r = await stack.cli(["exec", "audit", "--", "/nonexistent/tool"]);
    expect(r.code).toBe(127);
    expect(r.stderr).toContain("command not found");
    // A command name is shown as typed, its control characters escaped, not obeyed.
    const odd = await stack.cli(["exec", "audit", "--", "/nonexistent/\u001b[2Jtool"]);
    expect(odd.stderr).toBe("s3jit exec: cannot run /nonexistent/\\x1b[2Jtool: command not found\n");
  });

  it("needs a command", async () => {
    const r = await stack.cli(["exec", "audit", "--"]);
    expect(r.code).toBe(2);
  });
});
