import { describe, expect, it, afterAll } from "vitest";
import { randomBytes } from "node:crypto";
import type { SecretStore } from "./secret-store.js";
import { MemoryStore } from "./memory.js";
import { KeytarStore } from "./keytar.js";
import { requires } from "../../test/helpers/requires.js";

/** One service name per run: parallel runs and the user's own s3jit items never collide. */
const service = `s3jit-test-${randomBytes(4).toString("hex")}`;
const keychain = await requires("keychain");

/** What every backend must do alike: the daemon cannot tell which one it has. */
function contract(make: () => SecretStore): void {
  const store = make();
  afterAll(async () => {
    for (const k of await store.list()) await store.delete(k);
  });

  it("answers null for a key never written", async () => {
    expect(await store.get("session:never")).toBeNull();
  });

  it("returns what was written, and the latest write wins", async () => {
    await store.set("session:audit", "one");
    expect(await store.get("session:audit")).toBe("one");
    await store.set("session:audit", "two");
    expect(await store.get("session:audit")).toBe("two");
    expect((await store.list()).filter((k) => k === "session:audit")).toHaveLength(1);
  });

  it("keeps values byte for byte: a session's JSON of several KB, non-ASCII text, line breaks", async () => {
    const big = JSON.stringify({ v: 1, expiresAt: 1, data: { token: randomBytes(3000).toString("base64") } });
    const odd = 'zß€😀\n\t"quoted" \\ end ';
    await store.set("session:big", big);
    await store.set("sso-login:odd/name:with.colons", odd);
    expect(await store.get("session:big")).toBe(big);
    expect(await store.get("sso-login:odd/name:with.colons")).toBe(odd);
  });

  it("lists every key it holds, and nothing after delete; delete says whether there was one", async () => {
    await store.set("endpoint-token:a", "x");
    await store.set("endpoint-token:b", "y");
    expect(await store.list()).toEqual(expect.arrayContaining(["endpoint-token:a", "endpoint-token:b"]));
    expect(await store.delete("endpoint-token:a")).toBe(true);
    expect(await store.delete("endpoint-token:a")).toBe(false);
    expect(await store.get("endpoint-token:a")).toBeNull();
    expect(await store.list()).not.toContain("endpoint-token:a");
    expect(await store.list()).toContain("endpoint-token:b");
  });
}

describe("SecretStore contract: MemoryStore", () => contract(() => new MemoryStore()));

keychain.describe("SecretStore contract: KeytarStore (the real Secret Service)", () => contract(() => new KeytarStore(service)));

describe("MemoryStore", () => {
  it("shares nothing between instances (each daemon start begins empty)", async () => {
    const a = new MemoryStore();
    await a.set("session:x", "1");
    expect(await new MemoryStore().list()).toEqual([]);
  });
});
