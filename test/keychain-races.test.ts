import { afterAll, expect, it } from "vitest";
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { promisify } from "node:util";
import { KeytarStore } from "../src/store/keytar.js";
import { Secrets } from "../src/store/secrets.js";
import { requires } from "./helpers/requires.js";

/**
 * Issue 15, bullet 6: with the real OS keychain, a session being stored while a revoke or a logout
 * removes it must leave nothing behind. keytar runs each call on libuv's thread pool, so a delete
 * issued after a set can reach the Secret Service first; the item would then stay until it expires.
 * Items are written through keytar (KeytarStore), checked with secret-tool.
 */

const run = promisify(execFile);

const keychain = await requires("keychain");

const service = `s3jit-test-races-${randomBytes(4).toString("hex")}`;

async function keyringItems(): Promise<string> {
  try {
    const { stdout, stderr } = await run("secret-tool", ["search", "--all", "service", service]);
    return stdout + stderr;
  } catch (err) {
    return String((err as { stdout?: string }).stdout ?? "");
  }
}

const session = (i: number) => ({ accessKeyId: `ASIARACE${i}`, secretAccessKey: "s".repeat(40), sessionToken: "t".repeat(300) });
// The race is a matter of thread scheduling: enough rounds that it showed in every run before the fix.
const ROUNDS = 60;

keychain.describe("keychain races (real Secret Service)", () => {
  afterAll(async () => {
    const store = new KeytarStore(service);
    for (const k of await store.list()) await store.delete(k);
  });

  it("put vs revoke: a session stored while the window is revoked leaves no item", async () => {
    const secrets = await Secrets.open(new KeytarStore(service));
    for (let i = 0; i < ROUNDS; i++) {
      // The broker stores a fresh mint; a revoke removes the profile's session before the store finished.
      const put = secrets.put("session", "audit", session(i), Date.now() + 3_600_000);
      const revoke = secrets.remove("session", "audit");
      await Promise.all([put, revoke]);
      expect(await keyringItems(), `round ${i}`).toBe("");
    }
  });

  it("put vs logout: sessions and the login stored while a logout removes them leave no item", async () => {
    const secrets = await Secrets.open(new KeytarStore(service));
    for (let i = 0; i < ROUNDS; i++) {
      const puts = [
        secrets.put("session", "audit", session(i), Date.now() + 3_600_000),
        secrets.put("session", "reports", session(i), Date.now() + 3_600_000),
        secrets.put("sso-login", "corp", { accessToken: "a".repeat(200), refreshToken: "r".repeat(200) }, Date.now() + 8 * 3_600_000),
      ];
      const logout = Promise.all([secrets.removeKind("session"), secrets.remove("sso-login", "corp")]);
      await Promise.all([...puts, logout]);
      expect(await keyringItems(), `round ${i}`).toBe("");
      expect(secrets.keys()).toEqual([]);
    }
  });

  it("the last word wins the other way round too: a put issued after a remove is kept", async () => {
    const secrets = await Secrets.open(new KeytarStore(service));
    await secrets.put("session", "audit", session(0), Date.now() + 3_600_000);
    const removed = secrets.remove("session", "audit");
    const stored = secrets.put("session", "audit", session(1), Date.now() + 3_600_000);
    await Promise.all([removed, stored]);
    expect(await keyringItems()).toContain("session:audit");
    expect(await new KeytarStore(service).get("session:audit")).toContain("ASIARACE1");
    await secrets.remove("session", "audit");
    expect(await keyringItems()).toBe("");
  });
});
