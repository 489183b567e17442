import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CLI, OTHER_PROFILE_TOML, runProcess, startStack, type Stack } from "../helpers/stack.js";

const ESC = "\x1b[";

describe("s3jit status for people", () => {
  let stack: Stack;
  /** `s3jit status` on a terminal: util-linux `script` gives the CLI a pty. */
  const onTty = (env: NodeJS.ProcessEnv = {}) =>
    runProcess("script", ["-qec", `'${process.execPath}' '${CLI}' status`, "/dev/null"], { env: { ...stack.env, SHELL: "/bin/sh", ...env } });

  beforeAll(async () => {
    stack = await startStack({ extraToml: OTHER_PROFILE_TOML });
    expect((await stack.cli(["login", "--no-browser"])).code).toBe(0);
    // A refusal first (no window yet), then a window with a reason.
    const env = await stack.clientEnv("audit");
    expect((await fetch(env.AWS_CONTAINER_CREDENTIALS_FULL_URI!, { headers: { authorization: env.AWS_CONTAINER_AUTHORIZATION_TOKEN! } })).status).toBe(403);
    expect((await stack.cli(["grant", "audit", "--for", "20m", "--reason", "INC-1234 audit"])).code).toBe(0);
  });
  afterAll(async () => {
    await stack?.close();
  });

  it("per profile: open or closed, when it ends, time left, reason, last refusal; no colour when not on a terminal", async () => {
    const r = await stack.cli(["status"]);
    expect(r.code).toBe(0);
    expect(r.stdout).not.toContain(ESC);
    expect(r.stdout).toMatch(/^profile audit \[scoped\]: window open until \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ \((19m[0-5]\d|20m00)s left\) — INC-1234 audit/m);
    expect(r.stdout).toMatch(/^ {2}last refusal: WindowClosed at \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/m);
    expect(r.stdout).toMatch(/^profile other \[scoped\]: window closed$/m);
    expect(r.stdout).toMatch(/^sso corp: logged in until /m);
  });

  it("colour on a terminal, none with NO_COLOR", async () => {
    const tty = await onTty();
    expect(tty.code, tty.stderr).toBe(0);
    expect(tty.stdout).toContain(`${ESC}32mopen until`);
    expect(tty.stdout).toContain(`${ESC}31mWindowClosed`);
    const plain = await onTty({ NO_COLOR: "1" });
    expect(plain.code).toBe(0);
    expect(plain.stdout).toContain("window open until");
    expect(plain.stdout).not.toContain(ESC);
  });
});
