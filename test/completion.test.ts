import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { execFileSync, spawnSync } from "node:child_process";
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { COMMANDS } from "../src/cli/completion.js";
import { requires } from "./helpers/requires.js";

/**
 * `s3jit completion` with the real shells: each script passes its shell's own syntax check, and
 * bash, zsh and fish complete a profile name from the config through the built CLI on PATH.
 */
const CLI = path.resolve("bin/s3jit.js");
// bash runs the scripts themselves; a missing zsh or fish fails its tests unless the run opts out
// by name (S3JIT_TEST_WITHOUT=zsh,fish), as every suite that needs something does.
const shells = { bash: undefined, zsh: await requires("zsh"), fish: await requires("fish") };
/** `it`, gated on the shell where the shell is optional. */
const itIn = (shell: keyof typeof shells) => shells[shell]?.it ?? it;

let dir: string;
let env: NodeJS.ProcessEnv;

beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), "s3jit-completion-"));
  const bin = path.join(dir, "bin");
  execFileSync("mkdir", ["-p", bin]);
  // The script calls `s3jit`: a shim on PATH runs this checkout's CLI.
  writeFileSync(path.join(bin, "s3jit"), `#!/bin/sh\nexec "${process.execPath}" "${CLI}" "$@"\n`);
  chmodSync(path.join(bin, "s3jit"), 0o755);
  const config = path.join(dir, "config.toml");
  writeFileSync(
    config,
    [
      `[sso.corp]`,
      `start_url = "https://corp.awsapps.com/start"`,
      `region = "eu-west-1"`,
      `[profile.audit]`,
      `sso = "corp"`,
      `[profile.analytics]`,
      `sso = "corp"`,
      `[profile.reports]`,
      `sso = "corp"`,
      // A name no shell may see as code: it is left out, never quoted into the script.
      `[profile."x;touch pwned"]`,
      `sso = "corp"`,
      "",
    ].join("\n"),
  );
  env = { PATH: `${bin}:${process.env.PATH}`, HOME: dir, S3JIT_CONFIG: config, XDG_CONFIG_HOME: path.join(dir, "cfg") };
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function cli(args: string[]) {
  return spawnSync(process.execPath, [CLI, ...args], { env, encoding: "utf8" });
}

describe("s3jit completion", () => {
  it("lists the config's profile and SSO names without a daemon, leaving out names a shell would run", () => {
    const p = cli(["completion", "--names", "profile"]);
    expect(p.status, p.stderr).toBe(0);
    expect(p.stdout.trim().split("\n")).toEqual(["analytics", "audit", "reports"]);
    expect(cli(["completion", "--names", "sso"]).stdout.trim()).toBe("corp");
  });

  it("refuses an unknown shell with exit 2, naming the three", () => {
    const p = cli(["completion", "tcsh"]);
    expect(p.status).toBe(2);
    expect(p.stderr).toContain("bash, zsh, fish");
  });

  it("knows every command the usage names", () => {
    const usage = cli(["help"]).stdout;
    const commands = [...usage.matchAll(/^ {2}([a-z-]+)\b/gm)].map((m) => m[1]!);
    expect(commands.length).toBeGreaterThan(10);
    for (const c of commands) expect(Object.keys(COMMANDS), c).toContain(c);
  });

  for (const shell of ["bash", "zsh", "fish"] as const) itIn(shell)(`the ${shell} script passes the shell's syntax check`, () => {
    const script = cli(["completion", shell]).stdout;
    const file = path.join(dir, `completion.${shell}`);
    writeFileSync(file, script);
    const check = spawnSync(shell, ["-n", file], { encoding: "utf8" });
    expect(check.status, check.stderr).toBe(0);
  });

  it("bash completes a command, a profile name, a flag and a flag's values", () => {
    const complete = (words: string[]) => {
      const script = path.join(dir, "completion.bash");
      writeFileSync(script, cli(["completion", "bash"]).stdout);
      const line = words.map((w) => `'${w}'`).join(" ");
      const p = spawnSync("bash", ["-c", `source '${script}'; COMP_WORDS=(${line}); COMP_CWORD=${words.length - 1}; _s3jit; printf '%s\\n' "\${COMPREPLY[@]}"`], { env, encoding: "utf8" });
      expect(p.status, p.stderr).toBe(0);
      return p.stdout.split("\n").filter(Boolean).sort();
    };
    expect(complete(["s3jit", "gr"])).toEqual(["grant"]);
    expect(complete(["s3jit", "grant", "a"])).toEqual(["analytics", "audit"]);
    expect(complete(["s3jit", "exec", ""])).toEqual(["analytics", "audit", "reports"]);
    expect(complete(["s3jit", "grant", "audit", "--r"])).toEqual(["--reason"]);
    expect(complete(["s3jit", "env", "audit", "--shell", "f"])).toEqual(["fish"]);
    expect(complete(["s3jit", "login", ""])).toEqual(["corp"]);
    // A profile is one argument: nothing more after it.
    expect(complete(["s3jit", "grant", "audit", ""])).toEqual([]);
    expect(complete(["s3jit", "completion", "z"])).toEqual(["zsh"]);
  });

  itIn("fish")("fish completes a profile name", () => {
    const script = path.join(dir, "completion.fish");
    writeFileSync(script, cli(["completion", "fish"]).stdout);
    const p = spawnSync("fish", ["-c", `source '${script}'; complete -C 's3jit revoke au'`], { env, encoding: "utf8" });
    expect(p.status, p.stderr).toBe(0);
    expect(p.stdout.split("\n").map((l) => l.split("\t")[0])).toContain("audit");
  });

  itIn("zsh")("zsh loads the script into compinit and registers it for s3jit", () => {
    const script = path.join(dir, "completion.zsh");
    writeFileSync(script, cli(["completion", "zsh"]).stdout);
    const p = spawnSync("zsh", ["-f", "-c", `autoload -U compinit && compinit -u -D; source '${script}'; print -r -- $_comps[s3jit]`], { env, encoding: "utf8" });
    expect(p.status, p.stderr).toBe(0);
    expect(p.stdout.trim()).toBe("_s3jit");
  });
});
