import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mkdir, mkdtemp, rm, stat } from "node:fs/promises";
import { createServer } from "node:net";
import os from "node:os";
import path from "node:path";
import { EndpointTokens } from "../../src/server/tokens.js";
import { responseOf } from "../../src/server/credential-body.js";
import type { Session } from "../../src/types.js";

/** The endpoint tokens' folder where it does not exist yet (created whole, owner-only), and a token file that cannot be opened. */
describe("endpoint tokens: their folder and files at the edges", () => {
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

  /**
   * Only a symbolic link is called one: any other reason the token file cannot be opened (here a
   * socket in its place, which open() refuses with ENXIO, also for root) is passed on as it is, not
   * dressed up as a planted link with `rm` as the fix.
   */
  it("a socket where the token file should be: its ENXIO is passed on, not called a symbolic link", async () => {
    const dir = path.join(root, "tokens");
    await mkdir(dir, { mode: 0o700 });
    const socket = createServer();
    await new Promise<void>((r) => socket.listen(path.join(dir, "dev"), r));
    try {
      const err = (await EndpointTokens.open(dir, ["dev"]).catch((e: unknown) => e)) as NodeJS.ErrnoException;
      expect(err.code).toBe("ENXIO");
      expect(err.message).not.toContain("symbolic link");
    } finally {
      await new Promise((r) => socket.close(r));
    }
  });
});

/** Issue 16: a cached hit builds nothing — the answer's bytes are made once per session. */
describe("the credentials answer is prepared once per session", () => {
  const session: Session = {
    accessKeyId: "ASIA-prepared-once",
    secretAccessKey: "secret",
    sessionToken: "token",
    expiration: Date.parse("2026-11-29T18:00:00Z"),
    accountId: "123456789012",
    roleArn: "arn:aws:iam::123456789012:role/S3JitBase",
    profile: "audit",
    windowEnd: Date.parse("2026-11-29T18:00:00Z"),
    policyHash: "0".repeat(64),
  };

  it("the same session gets the very same headers and bytes; another session its own", () => {
    const first = responseOf(session);
    expect(responseOf(session)).toBe(first);
    expect(responseOf(session).body).toBe(first.body);
    expect(JSON.parse(first.body.toString("utf8"))).toMatchObject({ AccessKeyId: "ASIA-prepared-once", Expiration: "2026-11-29T18:00:00Z" });
    const other = responseOf({ ...session, accessKeyId: "ASIA-another" });
    expect(other).not.toBe(first);
    expect(JSON.parse(other.body.toString("utf8")).AccessKeyId).toBe("ASIA-another");
  });
});
