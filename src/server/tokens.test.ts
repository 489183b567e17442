import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, stat, symlink, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { S3jitError } from "../errors.js";
import { constantTimeEqual, EndpointTokens } from "./tokens.js";

let root: string;
let dir: string;

beforeEach(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), "s3jit-tokens-"));
  dir = path.join(root, "tokens");
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

const mode = async (p: string) => (await stat(p)).mode & 0o777;

async function refusal(p: Promise<unknown>): Promise<S3jitError> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(S3jitError);
  return err as S3jitError;
}

describe("EndpointTokens", () => {
  it("creates one owner-only token file per profile: ≥256 bits of base64url, no trailing newline", async () => {
    const tokens = await EndpointTokens.open(dir, ["dev", "prod"]);
    expect(await mode(dir)).toBe(0o700);
    for (const p of ["dev", "prod"]) {
      const file = tokens.tokenFile(p);
      expect(file).toBe(path.join(dir, p));
      expect(await mode(file)).toBe(0o600);
      const text = await readFile(file, "utf8");
      expect(text).toBe(tokens.token(p));
      expect(text).toMatch(/^[A-Za-z0-9_-]{43,}$/);
      expect(text.endsWith("\n")).toBe(false);
      expect(Buffer.from(text, "base64url").length).toBeGreaterThanOrEqual(32);
    }
    expect(tokens.token("dev")).not.toBe(tokens.token("prod"));
    // Atomic writes leave no temporary files behind.
    expect((await readdir(dir)).sort()).toEqual(["dev", "prod"]);
  });

  it("keeps the tokens across a restart", async () => {
    const first = await EndpointTokens.open(dir, ["dev"]);
    const second = await EndpointTokens.open(dir, ["dev"]);
    expect(second.token("dev")).toBe(first.token("dev"));
  });

  it("verifies a token only for its own profile", async () => {
    const tokens = await EndpointTokens.open(dir, ["dev", "prod"]);
    const dev = tokens.token("dev");
    expect(tokens.verify("dev", dev)).toBe(true);
    expect(tokens.verify("prod", dev)).toBe(false);
    expect(tokens.verify("unknown", dev)).toBe(false);
    expect(tokens.verify("dev", "")).toBe(false);
    expect(tokens.verify("dev", dev + "\n")).toBe(false);
    expect(tokens.verify("dev", `Bearer ${dev}`)).toBe(false);
    expect(tokens.verify("dev", dev.slice(0, -1))).toBe(false);
  });

  it("rotates: a new token at once, and the old one stops working at once (no grace)", async () => {
    const tokens = await EndpointTokens.open(dir, ["dev", "prod"]);
    const old = tokens.token("dev");
    const prod = tokens.token("prod");
    await tokens.rotate("dev");
    const next = tokens.token("dev");
    expect(next).not.toBe(old);
    expect(await readFile(tokens.tokenFile("dev"), "utf8")).toBe(next);
    expect(await mode(tokens.tokenFile("dev"))).toBe(0o600);
    expect(tokens.token("prod")).toBe(prod);
    expect(tokens.verify("dev", next)).toBe(true);
    expect(tokens.verify("dev", old)).toBe(false);
    expect(tokens.verify("prod", old)).toBe(false);
    expect((await readdir(dir)).sort()).toEqual(["dev", "prod"]);
  });

  it("rotates every profile when none is named; a restart then loads the new ones", async () => {
    const tokens = await EndpointTokens.open(dir, ["dev", "prod"]);
    const before = [tokens.token("dev"), tokens.token("prod")];
    await tokens.rotate();
    const after = [tokens.token("dev"), tokens.token("prod")];
    expect(after[0]).not.toBe(before[0]);
    expect(after[1]).not.toBe(before[1]);
    const reopened = await EndpointTokens.open(dir, ["dev", "prod"]);
    expect([reopened.token("dev"), reopened.token("prod")]).toEqual(after);
  });

  it("refuses to rotate or hand out a profile it does not serve", async () => {
    const tokens = await EndpointTokens.open(dir, ["dev"]);
    expect((await refusal(tokens.rotate("nope"))).code).toBe("UnknownProfile");
    expect(() => tokens.token("nope")).toThrow(S3jitError);
  });

  it("refuses a token file others can read, naming the file and the fix", async () => {
    await EndpointTokens.open(dir, ["dev"]);
    const file = path.join(dir, "dev");
    await chmod(file, 0o644);
    const err = await refusal(EndpointTokens.open(dir, ["dev"]));
    expect(err.code).toBe("InsecureFile");
    expect(err.message).toContain(file);
    expect(err.message).toContain(`chmod 600 ${file}`);
    expect(err.message).not.toContain(await readFile(file, "utf8"));
  });

  it("refuses a token file the group can write", async () => {
    await EndpointTokens.open(dir, ["dev"]);
    await chmod(path.join(dir, "dev"), 0o620);
    expect((await refusal(EndpointTokens.open(dir, ["dev"]))).code).toBe("InsecureFile");
  });

  it("refuses a token folder others can enter, naming the fix", async () => {
    await mkdir(dir, { mode: 0o755 });
    await chmod(dir, 0o755);
    const err = await refusal(EndpointTokens.open(dir, ["dev"]));
    expect(err.code).toBe("InsecureFile");
    expect(err.message).toContain(`chmod 700 ${dir}`);
  });

  it("refuses a symlink planted in place of a token file", async () => {
    await mkdir(dir, { mode: 0o700 });
    const elsewhere = path.join(root, "elsewhere");
    await writeFile(elsewhere, "A".repeat(43), { mode: 0o600 });
    await symlink(elsewhere, path.join(dir, "dev"));
    expect((await refusal(EndpointTokens.open(dir, ["dev"]))).code).toBe("InsecureFile");
  });

  it("replaces a token file an editor broke (trailing newline, too short)", async () => {
    await mkdir(dir, { mode: 0o700 });
    const good = "B".repeat(43);
    await writeFile(path.join(dir, "dev"), good + "\n", { mode: 0o600 });
    await writeFile(path.join(dir, "prod"), "short", { mode: 0o600 });
    const tokens = await EndpointTokens.open(dir, ["dev", "prod"]);
    for (const p of ["dev", "prod"]) {
      const text = await readFile(path.join(dir, p), "utf8");
      expect(text).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(tokens.token(p)).toBe(text);
    }
    expect(tokens.verify("dev", good)).toBe(false);
  });

  it("refuses profile names that could leave the token folder", async () => {
    for (const bad of ["..", ".", "../x", "a/b", "", "x".repeat(65)]) {
      expect((await refusal(EndpointTokens.open(dir, [bad]))).code).toBe("InvalidProfileName");
    }
  });

  it("ensure() serves exactly the new profile list: added ones get a token, dropped ones stop verifying", async () => {
    const tokens = await EndpointTokens.open(dir, ["dev", "old"]);
    const dev = tokens.token("dev");
    const old = tokens.token("old");
    await tokens.ensure(["dev", "new"]);
    expect(tokens.token("dev")).toBe(dev);
    expect(tokens.verify("dev", dev)).toBe(true);
    expect(tokens.verify("new", tokens.token("new"))).toBe(true);
    expect(tokens.verify("old", old)).toBe(false);
  });
});

// The comparison every credential fetch runs: equal exactly when both strings are, whatever the
// lengths and wherever they differ.
describe("constantTimeEqual", () => {
  it("is true only for the very same characters", () => {
    expect(constantTimeEqual("abc", "abc")).toBe(true);
    expect(constantTimeEqual("", "")).toBe(true);
    expect(constantTimeEqual("abd", "abc")).toBe(false);
    expect(constantTimeEqual("xbc", "abc")).toBe(false);
  });

  it("tells lengths apart, even where the missing characters would compare as 0", () => {
    expect(constantTimeEqual("ab", "abc")).toBe(false);
    expect(constantTimeEqual("abcd", "abc")).toBe(false);
    expect(constantTimeEqual("ab", "ab\0")).toBe(false);
    expect(constantTimeEqual("", "abc")).toBe(false);
    expect(constantTimeEqual("abc", "")).toBe(false);
  });

  it("compares whole UTF-16 code units, not their low byte", () => {
    expect(constantTimeEqual("a\u0161c", "aac")).toBe(false);
    expect(constantTimeEqual("aac", "a\u0161c")).toBe(false);
  });

  it("verifies a hand-written token longer than the 43 characters s3jit writes", async () => {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const long = "L".repeat(60);
    await writeFile(path.join(dir, "dev"), long, { mode: 0o600 });
    const tokens = await EndpointTokens.open(dir, ["dev"]);
    expect(tokens.token("dev")).toBe(long);
    expect(tokens.verify("dev", long)).toBe(true);
    expect(tokens.verify("dev", long.slice(0, 43))).toBe(false);
    expect(tokens.verify("dev", long + "L")).toBe(false);
  });
});
