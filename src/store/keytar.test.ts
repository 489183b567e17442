import { describe, expect, it, afterAll } from "vitest";
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { promisify } from "node:util";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { KeytarStore } from "./keytar.js";
import { Secrets } from "./secrets.js";
import { requires } from "../../test/helpers/requires.js";
import { until } from "../../test/helpers/wait.js";

const run = promisify(execFile);
const service = `s3jit-test-${randomBytes(4).toString("hex")}`;

const keychain = await requires("keychain");

/** libsecret's own CLI as an outside witness of what is in the keyring. */
async function secretTool(...args: string[]): Promise<string> {
  try {
    return (await run("secret-tool", args)).stdout;
  } catch (err) {
    return (err as { stdout?: string }).stdout ?? "";
  }
}

keychain.describe("KeytarStore against the real Secret Service", () => {
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
    // take() deletes in the background: wait for the keyring to agree rather than guess how long.
    await until("the keyring to drop a and b and keep c", async () => {
      const left = await secretTool("search", "--all", "service", service);
      return !left.includes("session:a") && !left.includes("session:b") && left.includes("session:c");
    });
    // What sits in the keyring is the item with its expiry, as JSON.
    expect(JSON.parse(await secretTool("lookup", "service", service, "account", "session:c"))).toEqual({ v: 1, expiresAt: 9e15, data: { x: 3 } });
    // A fresh open (a daemon restart) sees the same.
    const again = await Secrets.open(store);
    expect(again.take("session", "c", 0)).toEqual({ x: 3 });
  });
});

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, "../..");
const withKeyring = path.join(root, "scripts/with-keyring.sh");

/** probeKeychain in a fresh Node process (tsx runs the source), printing "code: message". */
const probeScript = `import { probeKeychain } from ${JSON.stringify(path.join(here, "keytar.ts"))}; try { await probeKeychain("s3jit-test-probe"); console.log("ok"); } catch (e) { console.log(e.code + ": " + e.message); }`;
/** A child Node with tsx takes seconds on a busy 2-core machine running the whole suite. */
const CHILD_TIMEOUT = 90_000;
const nodeProbe = [process.execPath, "--import", "tsx", "--input-type=module", "-e", probeScript];

/** Outside any session bus and display, as in CI or over SSH: nothing can reach a desktop keyring or pop up a prompt. */
function headlessEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ...extra };
  for (const k of ["DBUS_SESSION_BUS_ADDRESS", "DISPLAY", "WAYLAND_DISPLAY"]) delete env[k];
  return env;
}

function expectTwoWaysOut(out: string): void {
  expect(out).toMatch(/^KeychainUnavailable: /);
  expect(out).toMatch(/unlock your keyring/);
  expect(out).toContain('keychain = "memory"');
}

describe("probeKeychain without a Secret Service", () => {
  it("fails with one clear message naming the cause and the two ways out", async () => {
    const [node, ...args] = nodeProbe;
    const { stdout } = await run(node!, args, { env: { ...process.env, DBUS_SESSION_BUS_ADDRESS: "unix:path=/nonexistent/bus" }, cwd: root });
    expectTwoWaysOut(stdout);
    expect(stdout).toMatch(/not usable \(.+\)/);
  }, CHILD_TIMEOUT);
});

const keyringTools = await requires("keyring-tools");

keyringTools.describe("scripts/with-keyring.sh outside any session", () => {
  it("gives CMD an unlocked keyring of its own, keeps CMD's exit status, and leaves nothing in HOME or TMPDIR", async () => {
    const home = await mkdtemp(path.join(os.tmpdir(), "s3jit-home-"));
    const tmp = await mkdtemp(path.join(os.tmpdir(), "s3jit-tmp-"));
    try {
      const cmd = 'printf secret-1 | secret-tool store --label=t service s3jit-test-wk account a && secret-tool lookup service s3jit-test-wk account a; exit 7';
      const res = await run("bash", [withKeyring, "sh", "-c", cmd], { env: headlessEnv({ HOME: home, TMPDIR: tmp }) }).then(
        () => ({ code: 0, stdout: "" }),
        (err: { code: number; stdout: string }) => err,
      );
      expect(res.code).toBe(7);
      expect(res.stdout).toBe("secret-1");
      expect(await readdir(home)).toEqual([]);
      expect(await readdir(tmp)).toEqual([]);
    } finally {
      await rm(home, { recursive: true, force: true });
      await rm(tmp, { recursive: true, force: true });
    }
  }, CHILD_TIMEOUT);

  it("a locked keyring (it answers reads with nothing, no error) is refused by probeKeychain", async () => {
    // A private keyring of this test's own, so locking it disturbs no other test.
    const lock = "dbus-send --session --print-reply --dest=org.freedesktop.secrets /org/freedesktop/secrets org.freedesktop.Secret.Service.Lock array:objpath:/org/freedesktop/secrets/collection/login >/dev/null && exec \"$@\"";
    const { stdout } = await run("bash", [withKeyring, "sh", "-c", lock, "sh", ...nodeProbe], { env: headlessEnv(), cwd: root });
    expectTwoWaysOut(stdout);
    expect(stdout).toMatch(/locked/);
  }, CHILD_TIMEOUT);
});
