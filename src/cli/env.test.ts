import { describe, expect, it } from "vitest";
import { execFileSync } from "node:child_process";
import { awsConfigSnippet, envFor, render, SHADOWING } from "./env.js";

const info = {
  profile: "audit",
  region: "eu-west-1",
  url: "http://127.0.0.1:17810/v1/credentials/audit",
  tokenFile: "/home/o'neil/.local/share/s3jit/tokens/audit",
  token: "tok_EN-abc",
};

describe("s3jit env output", () => {
  it("sets the endpoint, the token and the token file to one value, and unsets what would shadow them", () => {
    const v = envFor(info);
    expect(v.set.AWS_CONTAINER_CREDENTIALS_FULL_URI).toBe(info.url);
    expect(v.set.AWS_CONTAINER_AUTHORIZATION_TOKEN).toBe(info.token);
    expect(v.set.AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE).toBe(info.tokenFile);
    expect(v.unset).toEqual(["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"]);
  });

  it("sh: POSIX export lines and one unset line that a real shell evaluates, quotes included", () => {
    const text = render(envFor(info), "sh");
    const lines = text.split("\n");
    expect(lines.slice(0, -1).every((l) => l.startsWith("export "))).toBe(true);
    expect(lines.at(-1)).toBe(`unset ${SHADOWING.join(" ")}`);
    const out = execFileSync("sh", ["-c", `${text}\nprintf '%s\\n' "$AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE" "\${AWS_PROFILE-unset}"`], {
      env: { PATH: process.env.PATH, AWS_PROFILE: "shadow" },
    }).toString();
    expect(out).toBe(`${info.tokenFile}\nunset\n`);
  });

  it("fish and powershell forms", () => {
    expect(render(envFor(info), "fish")).toContain(`set -gx AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE '/home/o'\\''neil/.local/share/s3jit/tokens/audit'`);
    expect(render(envFor(info), "fish").split("\n").at(-1)).toBe(`set -e ${SHADOWING.join(" ")}`);
    const ps = render(envFor(info), "powershell");
    expect(ps).toContain(`$Env:AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE = '/home/o''neil/.local/share/s3jit/tokens/audit'`);
    expect(ps).toContain("Remove-Item Env:AWS_PROFILE -ErrorAction SilentlyContinue");
  });

  it("--aws-config: a credential_process profile naming this CLI", () => {
    const text = awsConfigSnippet(info, "/opt/s3 jit/bin/s3jit.js");
    expect(text).toContain("[profile s3jit-audit]");
    expect(text).toContain("region = eu-west-1");
    expect(text).toContain(`credential_process = "/opt/s3 jit/bin/s3jit.js" credential-process audit`);
  });
});
