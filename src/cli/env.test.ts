import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { requires } from "../../test/helpers/requires.js";
import { awsConfigSnippet, endpointVars, render, sessionEnv, type Shell } from "./env.js";

const info = {
  profile: "audit",
  region: "eu-west-1",
  url: "http://127.0.0.1:17810/v1/credentials/audit",
  tokenFile: "/home/o'neil/.local/share/s3jit/tokens/audit",
  token: "tok_EN-abc",
};

// fish's output is evaluated by fish itself: a missing fish fails that test unless the run opts out
// by name (S3JIT_TEST_WITHOUT=fish), never quietly checked as text only.
const fish = await requires("fish");

const TOKEN = "AWS_CONTAINER_AUTHORIZATION_TOKEN";
const TOKEN_FILE = "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE";

let dir: string;
let awsDir: string;
let userEnv: NodeJS.ProcessEnv;
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), "s3jit-env-"));
  awsDir = path.join(dir, "run", "aws");
  mkdirSync(path.join(dir, "home", ".aws"), { recursive: true });
  userEnv = { HOME: path.join(dir, "home") };
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** What a real shell has after evaluating the output, starting from `start`. */
function evaluated(shell: "sh" | "fish", text: string, start: Record<string, string>, names: string[]): Record<string, string | null> {
  const script =
    shell === "sh"
      ? `${text}\n${names.map((n) => `printf '%s=%s\\n' ${n} "\${${n}-<unset>}"`).join("\n")}`
      : `${text}\n${names.map((n) => `if set -q ${n}; printf '%s=%s\\n' ${n} "$${n}"; else; printf '%s=<unset>\\n' ${n}; end`).join("\n")}`;
  const out = execFileSync(shell === "sh" ? "sh" : "fish", ["-c", script], { env: { PATH: process.env.PATH, HOME: dir, ...start } }).toString();
  return Object.fromEntries(out.trimEnd().split("\n").map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1) === "<unset>" ? null : l.slice(l.indexOf("=") + 1)]));
}

describe("s3jit env: one token variable, never both", () => {
  it.each([false, true])("tokenFile=%s: sets one, unsets the other", (tokenFile) => {
    const v = endpointVars(info, tokenFile);
    expect(v.set).toEqual({ AWS_CONTAINER_CREDENTIALS_FULL_URI: info.url, ...(tokenFile ? { [TOKEN_FILE]: info.tokenFile } : { [TOKEN]: info.token }) });
    expect(v.unset).toEqual([tokenFile ? TOKEN : TOKEN_FILE]);
  });

  it.each<[Shell, boolean]>([
    ["sh", false],
    ["sh", true],
    ["fish", false],
    ["fish", true],
    ["powershell", false],
    ["powershell", true],
  ])("%s (token file: %s) prints exactly one of the two", (shell, tokenFile) => {
    const text = render(sessionEnv(info, userEnv, { tokenFile, awsDir }), shell);
    const setLines = text.split("\n").filter((l) => /^(export |set -gx |\$Env:)/.test(l));
    const named = (name: string) => setLines.filter((l) => new RegExp(`(^| |:)${name}( |=)`).test(l));
    expect(named(TOKEN)).toHaveLength(tokenFile ? 0 : 1);
    expect(named(TOKEN_FILE)).toHaveLength(tokenFile ? 1 : 0);
    expect(text).toContain(shell === "powershell" ? `Remove-Item Env:${tokenFile ? TOKEN : TOKEN_FILE} ` : ` ${tokenFile ? TOKEN : TOKEN_FILE}`);
  });

  const evaluates = (shell: "sh" | "fish") => () => {
    const text = render(sessionEnv(info, userEnv, { awsDir }), shell);
    const got = evaluated(shell, text, { [TOKEN_FILE]: "/stale/file", AWS_PROFILE: "shadow", AWS_ACCESS_KEY_ID: "AKIA-shadow" }, [TOKEN, TOKEN_FILE, "AWS_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_CONFIG_FILE"]);
    expect(got).toMatchObject({ [TOKEN]: info.token, [TOKEN_FILE]: null, AWS_PROFILE: null, AWS_ACCESS_KEY_ID: null });
    expect(got.AWS_CONFIG_FILE).toMatch(new RegExp(`^${awsDir}/config-[0-9a-f]{16}$`));
    const withFile = evaluated(shell, render(sessionEnv(info, userEnv, { tokenFile: true, awsDir }), shell), { [TOKEN]: "stale" }, [TOKEN, TOKEN_FILE]);
    expect(withFile).toEqual({ [TOKEN]: null, [TOKEN_FILE]: info.tokenFile });
  };
  const title = "evaluates it: a token file left from before is gone, the token set, quotes intact";
  it(`sh ${title}`, evaluates("sh"));
  fish.it(`fish ${title}`, evaluates("fish"));

  it("--json: the same variables as {set, unset}", () => {
    const vars = sessionEnv(info, userEnv, { tokenFile: true, awsDir });
    expect(Object.keys(vars.set).sort()).toEqual(["AWS_CONFIG_FILE", "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", "AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_SHARED_CREDENTIALS_FILE"]);
    expect(vars.unset).toContain(TOKEN);
    expect(vars.unset).not.toContain(TOKEN_FILE);
  });
});

describe("s3jit env: the session's own shared files", () => {
  it("points AWS_CONFIG_FILE at the user's settings without credentials, AWS_SHARED_CREDENTIALS_FILE at an empty file", () => {
    writeFileSync(path.join(userEnv.HOME!, ".aws", "config"), "[default]\nregion = us-east-2\ncredential_process = /bin/echo\n");
    writeFileSync(path.join(userEnv.HOME!, ".aws", "credentials"), "[default]\naws_access_key_id = AKIA-x\naws_secret_access_key = y\n");
    const vars = sessionEnv(info, userEnv, { awsDir });
    expect(readFileSync(vars.set.AWS_CONFIG_FILE!, "utf8")).toMatch(/\[default\]\nregion = us-east-2\n$/);
    expect(readFileSync(vars.set.AWS_SHARED_CREDENTIALS_FILE!, "utf8")).toBe("");
    expect(vars.unset).toEqual(expect.arrayContaining(["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_ARN", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"]));
  });

  it("shells with different settings get different files; the same settings share one", () => {
    const a = sessionEnv(info, userEnv, { awsDir }).set.AWS_CONFIG_FILE;
    const b = sessionEnv(info, { ...userEnv }, { awsDir }).set.AWS_CONFIG_FILE;
    writeFileSync(path.join(dir, "other"), "[default]\nregion = ap-south-1\n");
    const c = sessionEnv(info, { ...userEnv, AWS_CONFIG_FILE: path.join(dir, "other") }, { awsDir }).set.AWS_CONFIG_FILE;
    expect(b).toBe(a);
    expect(c).not.toBe(a);
    expect(existsSync(a!) && existsSync(c!)).toBe(true);
  });
});

describe("s3jit env --aws-config", () => {
  it("a credential_process profile naming this CLI", () => {
    const text = awsConfigSnippet(info, "/opt/s3 jit/bin/s3jit.js");
    expect(text).toContain("[profile s3jit-audit]");
    expect(text).toContain("region = eu-west-1");
    expect(text).toContain(`credential_process = "/opt/s3 jit/bin/s3jit.js" credential-process audit`);
  });
});
