import { describe, expect, it, afterAll } from "vitest";
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { promisify } from "node:util";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { KeytarStore, probeKeychain } from "./keytar.js";
import { Secrets } from "./secrets.js";

const run = promisify(execFile);
const service = `s3jit-test-${randomBytes(4).toString("hex")}`;

/** The keychain tests need a Secret Service; CI provides one (scripts/with-keyring.sh). */
const reachable = await probeKeychain(service).then(
  () => true,
  (err: Error) => {
    console.warn(`keychain tests skipped: no usable Secret Service here (${err.message.split(".")[0]}). Run them with scripts/with-keyring.sh.`);
    return false;
  },
);
if (process.env.CI && !reachable) throw new Error("CI must run the keychain tests: no Secret Service is reachable");

/** libsecret's own CLI as an outside witness of what is in the keyring. */
async function secretTool(...args: string[]): Promise<string> {
  try {
    return (await run("secret-tool", args)).stdout;
  } catch (err) {
    return (err as { stdout?: string }).stdout ?? "";
  }
}

describe.skipIf(!reachable)("KeytarStore against the real Secret Service", () => {
  const store = new KeytarStore(service);
  afterAll(async () => {
    for (const k of await store.list()) await store.delete(k);
  });

  it("writes, lists, reads and deletes items that secret-tool also sees", async () => {
    await store.set("session:audit", "value-1");
    expect(await store.get("session:audit")).toBe("value-1");
    expect(await store.list()).toContain("session:audit");
    expect(await secretTool("lookup", "service", service, "account", "session:audit")).toBe("value-1");
    expect(await store.delete("session:audit")).toBe(true);
    expect(await store.get("session:audit")).toBeNull();
    expect(await secretTool("search", "--all", "service", service)).not.toContain("session:audit");
  });

  it("expired items are deleted from the keyring when read, and by purgeExpired", async () => {
    const secrets = await Secrets.open(store);
    await secrets.put("session", "a", { x: 1 }, 1000);
    await secrets.put("session", "b", { x: 2 }, 2000);
    await secrets.put("session", "c", { x: 3 }, 9e15);
    expect(secrets.take("session", "a", 1500)).toBeNull();
    await secrets.purgeExpired(2500);
    await new Promise((r) => setTimeout(r, 100));
    const left = await secretTool("search", "--all", "service", service);
    expect(left).not.toContain("session:a");
    expect(left).not.toContain("session:b");
    expect(left).toContain("session:c");
    // A fresh open (a daemon restart) sees the same.
    const again = await Secrets.open(store);
    expect(again.take("session", "c", 0)).toEqual({ x: 3 });
  });
});

describe("probeKeychain without a Secret Service", () => {
  it("fails with one clear message naming the two ways out", async () => {
    const here = path.dirname(fileURLToPath(import.meta.url));
    const script = `import { probeKeychain } from ${JSON.stringify(path.join(here, "keytar.ts"))}; try { await probeKeychain("s3jit-none"); console.log("ok"); } catch (e) { console.log(e.code + ": " + e.message); }`;
    const { stdout } = await run(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], {
      env: { ...process.env, DBUS_SESSION_BUS_ADDRESS: "unix:path=/nonexistent/bus" },
      cwd: path.resolve(here, "../.."),
    });
    expect(stdout).toMatch(/^KeychainUnavailable: /);
    expect(stdout).toContain('keychain = "memory"');
    expect(stdout).toMatch(/unlock your keyring/);
  });
});
