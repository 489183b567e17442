import { describe, expect, it } from "vitest";
import { S3jitError } from "../errors.js";
import { failed } from "./failure.js";

/** The last line of every failed command, the quick commands' (fast.ts) and the full CLI's alike. */
describe("failed", () => {
  const run = (err: unknown) => {
    const lines: string[] = [];
    const code = failed({ err: (t) => lines.push(t) }, err);
    return { code, lines };
  };

  it("shows an S3jitError's message with the names it quotes escaped, not obeyed", () => {
    // A profile name as the daemon quotes it back: ESC would recolour or retitle the terminal.
    const r = run(new S3jitError("UnknownProfile", 'profile "x\u001b]0;pwned\u0007" is not in the config'));
    expect(r).toEqual({ code: 1, lines: ['s3jit: profile "x\\x1b]0;pwned\\x07" is not in the config'] });
  });

  it("exits 3 when the daemon is not running, 1 otherwise; a foreign error or a bare value too", () => {
    expect(run(new S3jitError("DaemonNotRunning", "the s3jit daemon is not running")).code).toBe(3);
    expect(run(new TypeError("bad\nline"))).toEqual({ code: 1, lines: ["s3jit: bad\\x0aline"] });
    expect(run(null)).toEqual({ code: 1, lines: ["s3jit: null"] });
    expect(run("text")).toEqual({ code: 1, lines: ["s3jit: text"] });
  });
});
