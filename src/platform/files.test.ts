import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { ensurePrivateDir, privacyProblemAt, writeFileAtomically, writePrivateFile } from "./files.js";

const mode = (p: string) => statSync(p).mode & 0o777;

describe.skipIf(process.platform === "win32")("private and atomic files", () => {
  let dir: string;
  let umask: number;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), "s3jit-files-"));
    // A umask that would take bits a unit file needs and give none away: modes must not depend on it.
    umask = process.umask(0o077);
  });
  afterEach(() => {
    process.umask(umask);
    rmSync(dir, { recursive: true, force: true });
  });

  it.each([
    ["a private file", (f: string, t: string) => writePrivateFile(f, t), 0o600],
    ["a unit file (0644)", (f: string, t: string) => writeFileAtomically(f, t, { mode: 0o644 }), 0o644],
  ] as const)("writes %s with exactly its mode, replaces the old one whole, and leaves no temporary file", (_name, write, want) => {
    const file = path.join(dir, "sub", "f");
    write(file, "old");
    write(file, "new");
    expect(readFileSync(file, "utf8")).toBe("new");
    expect(mode(file)).toBe(want);
    expect(readdirSync(path.dirname(file))).toEqual(["f"]);
  });

  it("makes a missing folder 0700 for a private file", () => {
    writePrivateFile(path.join(dir, "a", "b", "f"), "x");
    expect(mode(path.join(dir, "a", "b"))).toBe(0o700);
    expect(privacyProblemAt(path.join(dir, "a", "b", "f"), "file")).toBeNull();
  });

  it("ensurePrivateDir creates a folder 0700 and tightens one that is open", () => {
    const open = path.join(dir, "open");
    mkdirSync(open);
    chmodSync(open, 0o755);
    expect(privacyProblemAt(open, "dir")?.fix).toBe(`chmod 700 ${open}`);
    ensurePrivateDir(open);
    ensurePrivateDir(path.join(dir, "new", "deeper"));
    expect(mode(open)).toBe(0o700);
    expect(mode(path.join(dir, "new", "deeper"))).toBe(0o700);
  });

  it("privacyProblemAt: a missing path is none; a file others can read names the chmod", () => {
    expect(privacyProblemAt(path.join(dir, "missing"), "file")).toBeNull();
    const f = path.join(dir, "open.txt");
    writeFileSync(f, "x");
    chmodSync(f, 0o644);
    expect(privacyProblemAt(f, "file")).toEqual({ problem: "is open to group or others (mode 0644)", fix: `chmod 600 ${f}` });
  });
});
