import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { chmod, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { S3jitError } from "../errors.js";
import { EndpointTokens } from "./tokens.js";

/**
 * The endpoint tokens' refusals by their words and fields, a rotation whose file cannot be written,
 * and the token-file shape checked as a whole (a good token after junk is not a token).
 */

let root: string;
let dir: string;
beforeEach(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), "s3jit-tokens-why-"));
  dir = path.join(root, "tokens");
});
afterEach(async () => {
  await chmod(dir, 0o700).catch(() => {});
  await rm(root, { recursive: true, force: true });
});

async function refusal(p: Promise<unknown> | (() => unknown)): Promise<S3jitError & { known?: string[] }> {
  let err: unknown = null;
  try {
    await (typeof p === "function" ? p() : p);
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(S3jitError);
  return err as S3jitError & { known?: string[] };
}

const GOOD = "A".repeat(43);

describe("EndpointTokens, exactly", () => {
  it("names a profile that cannot name a file, and the rule", async () => {
    const tokens = await EndpointTokens.open(dir, ["dev"]);
    const err = await refusal(() => tokens.tokenFile("../x"));
    expect(err.code).toBe("InvalidProfileName");
    expect(err.message).toBe('"../x" cannot name a token file: use letters, digits, _ . - (at most 64)');
  });

  it("an unknown profile's refusal lists the profiles it serves", async () => {
    const tokens = await EndpointTokens.open(dir, ["dev", "prod"]);
    expect((await refusal(() => tokens.token("qa"))).message).toContain("dev, prod");
    expect((await refusal(tokens.rotate("qa"))).message).toContain("dev, prod");
  });

  it("a symlink in place of a token file: InsecureFile, naming the fix", async () => {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    await writeFile(path.join(root, "elsewhere"), GOOD, { mode: 0o600 });
    await symlink(path.join(root, "elsewhere"), path.join(dir, "dev"));
    const err = await refusal(EndpointTokens.open(dir, ["dev"]));
    expect(err.code).toBe("InsecureFile");
    expect(err.message).toContain(`${path.join(dir, "dev")} is a symbolic link`);
    expect(err.message).toContain(`rm ${path.join(dir, "dev")}`);
  });

  it("a token folder others can enter is refused with the folder's chmod", async () => {
    await mkdir(dir, { recursive: true });
    await chmod(dir, 0o755);
    const err = await refusal(EndpointTokens.open(dir, ["dev"]));
    expect(err.code).toBe("InsecureFile");
    expect(err.message).toContain(`chmod 700 ${dir}`);
  });

  it("a token file that is not readable as a file (a folder) is passed on, not replaced", async () => {
    await mkdir(path.join(dir, "dev"), { recursive: true, mode: 0o700 });
    await chmod(dir, 0o700);
    await expect(EndpointTokens.open(dir, ["dev"])).rejects.toThrow();
  });

  it.each([
    ["junk before a good token", `!!${GOOD}`],
    ["junk after a good token", `${GOOD}!!`],
  ])("replaces a token file with %s", async (_what, text) => {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    await writeFile(path.join(dir, "dev"), text, { mode: 0o600 });
    const tokens = await EndpointTokens.open(dir, ["dev"]);
    expect(tokens.token("dev")).not.toBe(text);
    expect(tokens.token("dev")).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(await readFile(path.join(dir, "dev"), "utf8")).toBe(tokens.token("dev"));
  });

  it("keeps a good token file as it is", async () => {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    await writeFile(path.join(dir, "dev"), GOOD, { mode: 0o600 });
    expect((await EndpointTokens.open(dir, ["dev"])).token("dev")).toBe(GOOD);
  });

  it("ensure keeps the tokens of profiles it already serves, even when their files changed", async () => {
    const tokens = await EndpointTokens.open(dir, ["dev"]);
    const before = tokens.token("dev");
    await writeFile(path.join(dir, "dev"), GOOD, { mode: 0o600 });
    await tokens.ensure(["dev", "prod"]);
    expect(tokens.token("dev")).toBe(before);
    expect(tokens.verify("dev", before)).toBe(true);
  });

  it("verify refuses an unknown profile whatever is presented", async () => {
    const tokens = await EndpointTokens.open(dir, ["dev"]);
    expect(tokens.verify("qa", tokens.token("dev"))).toBe(false);
    expect(tokens.verify("qa", "")).toBe(false);
  });

  it("a rotation whose file cannot be written: the old token stops, the new one holds in memory, the error names the file", async () => {
    const tokens = await EndpointTokens.open(dir, ["dev", "prod"]);
    const old = tokens.token("dev");
    const prodBefore = tokens.token("prod");
    // A folder where the file should be: the atomic rename onto it fails (EISDIR), also for root.
    await rm(path.join(dir, "dev"));
    await mkdir(path.join(dir, "dev", "x"), { recursive: true });
    const err = await refusal(tokens.rotate("dev"));
    expect(err.code).toBe("StateWriteFailed");
    expect(err.message).toBe(
      `the old endpoint tokens no longer work, but the new token could not be written to ${path.join(dir, "dev")} (EISDIR): processes reading that file get 401 until it can be written (run \`s3jit logout\` again then); \`s3jit env\` prints the new token`,
    );
    expect(tokens.verify("dev", old)).toBe(false);
    expect(tokens.verify("dev", tokens.token("dev"))).toBe(true);
    expect(tokens.token("prod")).toBe(prodBefore);
  });
});
