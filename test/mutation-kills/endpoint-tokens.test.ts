import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mkdtemp, rm, stat } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { EndpointTokens } from "../../src/server/tokens.js";

/** The endpoint tokens' folder where it does not exist yet, nested: created whole, owner-only. */
describe("endpoint tokens: a folder that does not exist yet", () => {
  let root: string;
  beforeAll(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), "s3jit-tokens-kill-"));
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it("is created with its missing parents, 0700, and holds the token files", async () => {
    const dir = path.join(root, "state", "s3jit", "tokens");
    const tokens = await EndpointTokens.open(dir, ["dev"]);
    expect((await stat(dir)).mode & 0o777).toBe(0o700);
    expect(tokens.verify("dev", tokens.token("dev"))).toBe(true);
    expect((await stat(path.join(dir, "dev"))).isFile()).toBe(true);
  });
});
