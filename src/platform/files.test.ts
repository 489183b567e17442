import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { chmodSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { ensurePrivateDir, keepPrivateFile, privacyProblemAt, writeFileAtomically, writePrivateFile } from "./files.js";

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

  it("keepPrivateFile leaves a file that already holds the bytes, 0600, alone, and rewrites any other", () => {
    const file = path.join(dir, "sub", "config-0123");
    keepPrivateFile(file, "same text");
    const first = lstatSync(file).ino;
    expect([readFileSync(file, "utf8"), mode(file), mode(path.dirname(file))]).toEqual(["same text", 0o600, 0o700]);
    keepPrivateFile(file, "same text");
    expect(lstatSync(file).ino).toBe(first);
    // Other bytes of the same length, a longer text, a shorter one: each written anew.
    for (const text of ["SAME TEXT", "same text, longer", "same"]) {
      keepPrivateFile(file, text);
      expect(readFileSync(file, "utf8")).toBe(text);
    }
    // The right bytes but readable by others: replaced by a private file.
    writeFileSync(file, "open", { mode: 0o644 });
    chmodSync(file, 0o644);
    keepPrivateFile(file, "open");
    expect(mode(file)).toBe(0o600);
    // A link to a file with the right bytes is not followed: the link is replaced, its target untouched.
    const target = path.join(dir, "elsewhere");
    writeFileSync(target, "linked", { mode: 0o600 });
    rmSync(file);
    symlinkSync(target, file);
    keepPrivateFile(file, "linked");
    expect(lstatSync(file).isFile()).toBe(true);
    expect(mode(file)).toBe(0o600);
    expect(lstatSync(target).isFile()).toBe(true);
    expect(readdirSync(path.dirname(file))).toEqual(["config-0123"]);
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
