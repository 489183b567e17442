import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CLI, cleanEnv, runProcess, xdgEnv } from "../helpers/stack.js";
import { startInProcess, type InProcess } from "../races/in-process.js";

/**
 * An error message quoting what someone typed or configured reaches the terminal as text: the
 * daemon's refusals quote a profile name as it was asked for, and a name pasted from a ticket or
 * a web page may carry ESC sequences (retitle the window, clear the screen, write the clipboard)
 * or a CR that forges a line of its own. The CLI escapes them (src/cli/safe-text.ts).
 */
describe("the CLI shows an error message's control characters, it does not obey them", () => {
  let ip: InProcess;
  beforeAll(async () => {
    ip = await startInProcess();
  });
  afterAll(async () => {
    await ip?.close();
  });

  const NAME = "audit\x1b]0;owned\x07\x1b[2J\rs3jit: window open";
  const SHOWN = "audit\\x1b]0;owned\\x07\\x1b[2J\\x0ds3jit: window open";
  const cli = (...args: string[]) => runProcess(process.execPath, [CLI, ...args], { env: { ...cleanEnv(), ...xdgEnv(ip.dir) } });
  // Anything a terminal acts on but the newline that ends each line.
  // eslint-disable-next-line no-control-regex -- finding control characters is the point
  const CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/;

  it.each([["grant"], ["revoke"]])("%s: the daemon's refusal quoting the profile name", async (command) => {
    const r = await cli(command, NAME);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`no profile "${SHOWN}"`);
    expect(r.stderr).not.toMatch(CONTROL);
  });

  it("a usage error quoting the command", async () => {
    const r = await cli(NAME);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`unknown command "${SHOWN}"`);
    expect(r.stderr).not.toMatch(CONTROL);
  });
});
